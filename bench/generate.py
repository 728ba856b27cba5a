"""Generate a large statement from a seeded random generator, through the app's own rules.

Through the rules (app.drafting / app.amending / app.signing), so that whatever
the app derives when something is written (a stored diff, an audit entry, a
notification, a counter) exists as it would in real life: creating and opening
the statement, every proposal (``amending.propose``), the accepts that make
v2..v200 (``amending.accept``: new revision, snapshot, rebase of the open
siblings, so "rebased", "conflicted" and "obsolete" arise the real way), the
rejections and withdrawals, and later freezing, the 40 signatures and publishing.

Bulk-inserted with SQLAlchemy core, shaped as the rules shape them: users,
organisations and memberships; positions and comments (without their audit
entries and notifications).

The rules get a simulated clock (``Clock``) that starts 60 days back and moves a
minute per proposal, so a per-person rate that a rule might apply is never hit by
the generator; everything the benchmark does later uses the real time, which is
later than all of it.
"""

from __future__ import annotations

import random
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select

from bench.common import PASSWORD

# Made-up words, so no real statement's text is copied; a few real function
# words keep the rhythm of prose (the tokeniser and the diff see words, spaces
# and punctuation exactly as in a real text).
_SYLLABLES = ["ca", "lo", "ren", "mi", "sa", "tor", "vel", "an", "is", "tu", "pra", "del", "on", "gre",
              "ma", "sti", "fe", "nu", "qua", "bor", "li", "ze", "ho", "ent", "ar"]
_FUNCTION = ["the", "of", "and", "to", "in", "a", "for", "that", "on", "with", "by", "as", "all", "its",
             "their", "we", "must", "shall", "not", "be", "is", "are", "every", "our"]


@dataclass
class Spec:
    paragraphs: int = 300
    organisations: int = 40
    amendments: int = 2000  # all proposed through the rule, the accepted ones included
    versions: int = 200  # v1 + (versions - 1) accepts
    max_positions: int = 24  # per amendment, uniform 0..max
    max_comments: int = 6
    reject_share: float = 0.30  # of the amendments still open at the end
    withdraw_share: float = 0.10
    seed: int = 7
    title: str = "Charter of the Bench Federation"


SMOKE = Spec(paragraphs=30, organisations=40, amendments=200, versions=20, max_positions=8, max_comments=3)


class Clock:
    """Simulated time for the generator's rule calls: from 60 days back, moving forward only."""

    def __init__(self, start: datetime | None = None):
        self.now = start or datetime.now(UTC) - timedelta(days=60)

    def tick(self, seconds: float = 1) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@dataclass
class Generated:
    statement_id: int
    slug: str
    title: str
    coordinator_id: int
    org_ids: list[int]  # organisation n is org_ids[n - 1]; organisation 1's delegate coordinates
    org_slugs: dict[int, str]
    delegates: dict[int, int]  # organisation id -> its delegate's user id
    delegate_emails: dict[int, str]  # organisation id -> that delegate's e-mail
    paragraph_ids: list[int]  # live, in order
    amendment_pool: list[int]  # open or rebased modify amendments with the most positions and comments
    statuses: dict
    counts: dict
    seconds: float
    clock_end: str = ""

    def org(self, n: int) -> int:
        """The id of organisation n (1-based, as the method names them)."""
        return self.org_ids[n - 1]


class Words:
    def __init__(self, rng: random.Random, size: int = 1500):
        self.rng = rng
        made = set()
        while len(made) < size:
            made.add("".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(1, 4))))
        self.vocabulary = sorted(made)

    def word(self) -> str:
        rng = self.rng
        return rng.choice(_FUNCTION) if rng.random() < 0.35 else rng.choice(self.vocabulary)

    def sentence(self, n: int) -> str:
        words = [self.word() for _ in range(n)]
        if n > 8 and self.rng.random() < 0.4:
            words[self.rng.randrange(2, n - 2)] += ","
        words[0] = words[0].capitalize()
        return " ".join(words) + ("." if self.rng.random() < 0.9 else ";")

    def paragraph(self, low: int = 60, high: int = 200) -> str:
        target = self.rng.randint(low, high)
        sentences, total = [], 0
        while total < target:
            n = max(min(self.rng.randint(8, 24), target - total), 3)
            sentences.append(self.sentence(n))
            total += n
        return " ".join(sentences)

    def text_of_length(self, low: int, high: int) -> str:
        """Prose of ``low``..``high`` characters, cut after a whole sentence or word."""
        parts, size = [], 0
        while size < low:
            sentence = self.sentence(self.rng.randint(8, 24))
            parts.append(sentence)
            size += len(sentence) + 1
        text = " ".join(parts)
        if len(text) > high:
            text = text[:high].rsplit(" ", 1)[0].rstrip(",;") + "."
        return text

    def mutate(self, text: str) -> str:
        """A plausible amendment: replace, insert or delete a few words somewhere."""
        words = text.split(" ")
        rng = self.rng
        for _ in range(10):
            out = list(words)
            i = rng.randrange(len(out))
            action = rng.random()
            if action < 0.5:
                for k in range(i, min(len(out), i + rng.randint(1, 3))):
                    out[k] = self.word()
            elif action < 0.8:
                out[i:i] = [self.word() for _ in range(rng.randint(2, 6))]
            elif len(out) > 20:
                del out[i : i + rng.randint(1, 4)]
            result = " ".join(out).strip()
            if result and result != text:
                return result
        return text + " " + self.word() + "."

    def one_word(self, text: str) -> str:
        """The same text with one word replaced by another."""
        words = text.split(" ")
        for _ in range(20):
            i = self.rng.randrange(len(words))
            if words[i].isalpha():
                new = self.word()
                if new != words[i]:
                    return " ".join(words[:i] + [new] + words[i + 1:])
        return text + " " + self.word() + "."


def _bulk_people(spec: Spec, words: Words, tag: str, now: datetime):
    """Organisations, their delegates and signatories, memberships (SQLAlchemy core)."""
    from app.accounts.operations import SETUP_KEY
    from app.accounts.passwords import hash_password
    from app.extensions import db
    from app.models import Membership, Organisation, SiteSetting, User

    if db.session.get(SiteSetting, SETUP_KEY) is None:
        db.session.add(SiteSetting(key=SETUP_KEY, value=now.isoformat()))
    password_hash = hash_password(PASSWORD)
    db.session.execute(insert(Organisation), [
        {"slug": f"{tag}-org-{i:02d}",
         "name": f"{words.word().capitalize()} {words.word().capitalize()} Association {i:02d} ({tag})",
         "short_name": f"{tag.upper()}O{i:02d}", "country": "", "created_at": now}
        for i in range(1, spec.organisations + 1)
    ])
    orgs = db.session.execute(select(Organisation.id, Organisation.slug)
                              .where(Organisation.slug.like(f"{tag}-org-%")).order_by(Organisation.slug)).all()
    org_ids = [o.id for o in orgs]
    db.session.execute(insert(User), [
        {"email": f"{role}{i:02d}@{tag}.bench.example", "name": f"{role.title()} {i:02d} {tag}",
         "password_hash": password_hash, "is_admin": False, "active": True,
         "session_token": secrets.token_hex(16), "created_at": now}
        for i in range(1, spec.organisations + 1) for role in ("delegate", "signatory")
    ])
    user_ids = dict(db.session.execute(select(User.email, User.id)
                                       .where(User.email.like(f"%@{tag}.bench.example"))).all())
    emails = {org_ids[i - 1]: f"delegate{i:02d}@{tag}.bench.example" for i in range(1, spec.organisations + 1)}
    delegates = {o: user_ids[e] for o, e in emails.items()}
    signatories = {org_ids[i - 1]: user_ids[f"signatory{i:02d}@{tag}.bench.example"]
                   for i in range(1, spec.organisations + 1)}
    db.session.execute(insert(Membership), [
        {"organisation_id": o, "user_id": u, "role": r, "created_at": now}
        for r, table in (("delegate", delegates), ("signatory", signatories)) for o, u in table.items()
    ])
    db.session.commit()
    return org_ids, {o.id: o.slug for o in orgs}, delegates, emails


VIEWERS = 10  # organisations 1-10 view the pages in the rows (bench/rows.py): each needs an open amendment of its own


def _keeping_one_per_viewer(decided: list[int], open_ids: list[int], delegates: dict[int, int],
                            org_ids: list[int]) -> list[int]:
    """``decided`` without, for each viewing organisation whose open amendments it would all close, the
    first of them: a cold view follows a change on one of the viewer's own open amendments. (With the
    full spec every viewer keeps some anyway and nothing is taken out; the smoke spec needs it.)"""
    from app.extensions import db
    from app.models import Amendment

    proposers = dict(db.session.execute(
        select(Amendment.id, Amendment.proposer_id).where(Amendment.id.in_(open_ids))).all())
    closing = set(decided)
    for org_id in org_ids[:VIEWERS]:
        own = [i for i in open_ids if proposers[i] == delegates[org_id]]
        if own and all(i in closing for i in own):
            closing.discard(own[0])
    return [i for i in decided if i in closing]


def generate(spec: Spec, *, log=print) -> Generated:
    from app.amending import operations as amending
    from app.drafting import operations as drafting
    from app.errors import ConcordError
    from app.extensions import db
    from app.models import Amendment, Comment, Organisation, Paragraph, Position, Statement, User

    started = time.perf_counter()
    rng = random.Random(spec.seed)
    words = Words(rng)
    clock = Clock()
    tag = f"s{spec.seed}"
    org_ids, org_slugs, delegates, emails = _bulk_people(spec, words, tag, clock.now)

    # --- the statement, through the rules -----------------------------------------------------
    coordinator = db.session.get(User, delegates[org_ids[0]])
    organisations = {o.id: o for o in db.session.scalars(select(Organisation).where(Organisation.id.in_(org_ids)))}
    statement = drafting.create_statement(
        coordinator, title=spec.title, coordinator_organisation=organisations[org_ids[0]],
        participants=[organisations[i] for i in org_ids],
        paragraphs=[words.paragraph() for _ in range(spec.paragraphs)], now=clock.tick(),
    )
    amending.open_for_amendments(statement, coordinator, rule="coordinator", deadline=None, now=clock.tick())
    db.session.commit()
    statement_id, slug, coordinator_id = statement.id, statement.slug, coordinator.id
    t_statement = time.perf_counter()

    paragraphs = drafting.live_paragraphs(statement)
    pids = [p.id for p in paragraphs]
    current = {p.id: p.text for p in paragraphs}
    hot = rng.sample(pids, max(1, len(pids) // 5))  # a fifth of the paragraphs draw half of the amendments

    def pick_paragraph() -> int:
        return rng.choice(hot) if rng.random() < 0.5 else rng.choice(pids)

    def propose(kind: str, pid: int) -> Amendment:
        org_id = rng.choice(org_ids)
        user = db.session.get(User, delegates[org_id])
        text = {"modify": lambda: words.mutate(current[pid]), "insert": lambda: words.paragraph(40, 120),
                "delete": lambda: None, "retitle": lambda: f"{spec.title} {words.word()}"}[kind]()
        return amending.propose(
            db.session.get(Statement, statement_id), user, organisations[org_id], kind=kind,
            paragraph_id=None if kind == "retitle" else pid, text=text,
            rationale=words.sentence(rng.randint(5, 30)), now=clock.tick(60),
        )

    # Every proposal through the rule; 199 of them, evenly spread, accepted at once (70 % on the hot
    # paragraphs, so the open siblings there are rebased, or conflict, the real way).
    accepts = spec.versions - 1
    made = accepted = failed = 0  # committed
    pending = pending_accepted = 0
    while made < spec.amendments:
        try:
            if accepted + pending_accepted < (made + pending + 1) * accepts // spec.amendments:
                pid = rng.choice(hot) if rng.random() < 0.7 else rng.choice(pids)
                amendment = propose("modify", pid)
                amending.accept(amendment, coordinator, text_version=None, now=clock.tick())
                current[pid] = db.session.get(Paragraph, pid).text
                pending_accepted += 1
            else:
                kind = rng.choices(("modify", "insert", "delete", "retitle"), (86, 8, 5, 1))[0]
                propose(kind, pick_paragraph())
            pending += 1
            if pending >= 10 or pending_accepted:
                db.session.commit()
                if (made + pending) // 500 > made // 500:
                    log(f"    {made + pending} proposals, {time.perf_counter() - t_statement:.0f} s")
                made, accepted = made + pending, accepted + pending_accepted
                pending = pending_accepted = 0
        except ConcordError as exc:  # e.g. a cap reached: skip these, as a person would
            db.session.rollback()
            failed += 1
            pending = pending_accepted = 0
            if failed > 50:
                raise RuntimeError(f"too many proposals refused by the rules, the last: {exc.message}") from exc
    db.session.commit()
    db.session.expire_all()
    t_proposals = time.perf_counter()

    # Decisions through the rules: a share of what is still open is rejected or withdrawn.
    open_ids = list(db.session.scalars(select(Amendment.id).where(
        Amendment.statement_id == statement_id, Amendment.status.in_(("open", "rebased"))).order_by(Amendment.id)))
    rng.shuffle(open_ids)
    n_reject = int(len(open_ids) * spec.reject_share)
    n_withdraw = int(len(open_ids) * spec.withdraw_share)
    decided = _keeping_one_per_viewer(open_ids[: n_reject + n_withdraw], open_ids, delegates, org_ids)
    for i, amendment_id in enumerate(decided):
        amendment = db.session.get(Amendment, amendment_id)
        if i < n_reject:
            amending.reject(amendment, coordinator, reason="Not in line with the agreed scope.", now=clock.tick())
        else:
            amending.withdraw_amendment(amendment, db.session.get(User, amendment.proposer_id), now=clock.tick())
        if i % 20 == 19:
            db.session.commit()
    db.session.commit()
    t_decisions = time.perf_counter()

    # --- positions and comments (bulk) --------------------------------------------------------
    now = clock.tick()
    amendments = db.session.execute(
        select(Amendment.id, Amendment.round).where(Amendment.statement_id == statement_id).order_by(Amendment.id)
    ).all()
    positions, comments = [], []
    for a in amendments:
        for org_id in rng.sample(org_ids, rng.randint(0, min(spec.max_positions, len(org_ids)))):
            positions.append({
                "amendment_id": a.id, "organisation_id": org_id, "user_id": delegates[org_id],
                "stance": rng.choices(("support", "oppose", "abstain"), (6, 3, 1))[0],
                "reason": words.sentence(rng.randint(4, 16)) if rng.random() < 0.3 else "",
                "round": a.round, "created_at": now,
            })
        for _ in range(rng.randint(0, spec.max_comments)):
            comments.append({
                "amendment_id": a.id, "parent_id": None, "author_id": delegates[rng.choice(org_ids)],
                "body": " ".join(words.sentence(rng.randint(6, 20)) for _ in range(rng.randint(1, 3))),
                "created_at": now,
            })
    if positions:
        db.session.execute(insert(Position), positions)
    if comments:
        db.session.execute(insert(Comment), comments)
    tops = db.session.execute(select(Comment.id, Comment.amendment_id).join(Amendment)
                              .where(Amendment.statement_id == statement_id).order_by(Comment.id)).all()
    replies = [{"amendment_id": c.amendment_id, "parent_id": c.id, "author_id": rng.choice(list(delegates.values())),
                "body": words.sentence(rng.randint(5, 15)), "created_at": now}
               for c in tops if rng.random() < 0.33]
    if replies:
        db.session.execute(insert(Comment), replies)
    db.session.commit()
    t_bulk = time.perf_counter()

    # --- what was made ----------------------------------------------------------------------------
    status_counts = dict(db.session.execute(
        select(Amendment.status, func.count()).where(Amendment.statement_id == statement_id)
        .group_by(Amendment.status)).all())
    weight = dict(db.session.execute(
        select(Amendment.id, func.count(Position.id.distinct()) + func.count(Comment.id.distinct()))
        .outerjoin(Position, Position.amendment_id == Amendment.id)
        .outerjoin(Comment, Comment.amendment_id == Amendment.id)
        .where(Amendment.statement_id == statement_id, Amendment.kind == "modify",
               Amendment.status.in_(("open", "rebased")))
        .group_by(Amendment.id)).all())
    pool = sorted(weight, key=lambda i: (-weight[i], i))[:6]
    statement = db.session.get(Statement, statement_id)
    paragraphs = drafting.live_paragraphs(statement)
    texts = [p.text for p in paragraphs]
    counts = {
        "paragraphs": len(paragraphs),
        "words_min": min(len(t.split()) for t in texts),
        "words_max": max(len(t.split()) for t in texts),
        "organisations": len(org_ids),
        "amendments": sum(status_counts.values()),
        "positions": len(positions),
        "comments": len(comments) + len(replies),
        "versions": statement.version_count,
        "proposals_refused": failed,
        "amendment_pool": {i: weight[i] for i in pool},
    }
    seconds = time.perf_counter() - started
    log(f"    generated in {seconds:.1f} s (statement {t_statement - started:.1f} s, "
        f"{made} proposals with {accepted} accepts {t_proposals - t_statement:.1f} s, "
        f"decisions {t_decisions - t_proposals:.1f} s, bulk {t_bulk - t_decisions:.1f} s); {status_counts}")
    return Generated(
        statement_id=statement_id, slug=slug, title=statement.title, coordinator_id=coordinator_id,
        org_ids=org_ids, org_slugs=org_slugs, delegates=delegates, delegate_emails=emails,
        paragraph_ids=[p.id for p in paragraphs], amendment_pool=pool, statuses=status_counts,
        counts=counts, seconds=seconds, clock_end=clock.now.isoformat(),
    )


def freeze_sign_publish(generated: Generated) -> float:
    """Freeze the statement, let every organisation sign, publish. Returns the seconds taken."""
    from app.extensions import db
    from app.models import Membership, Organisation, Statement, User
    from app.publishing import publication as publishing
    from app.signing import operations as signing

    started = time.perf_counter()
    now = lambda: datetime.now(UTC)  # noqa: E731
    statement = db.session.get(Statement, generated.statement_id)
    coordinator = db.session.get(User, generated.coordinator_id)
    signing.freeze(statement, coordinator, now=now())
    db.session.commit()
    statement = db.session.get(Statement, generated.statement_id)
    sha = statement.frozen_version.sha256
    for org in list(statement.participant_organisations):
        signer = db.session.scalar(select(User).join(Membership).where(
            Membership.organisation_id == org.id, Membership.role == "signatory"))
        signing.sign(statement, signer, db.session.get(Organisation, org.id), signer_name=signer.name,
                     signer_title="Secretary General", authorised=True, password=PASSWORD,
                     version_sha256=sha, now=now())
        db.session.commit()
    statement = db.session.get(Statement, generated.statement_id)
    publishing.publish(statement, coordinator, publication_date=None, now=now())
    db.session.commit()
    return time.perf_counter() - started


@dataclass
class Flood:
    paragraph_id: int
    flood_ids: list[int] = field(default_factory=list)
    target_id: int = 0
    propose_seconds: list[float] = field(default_factory=list)


def make_flood(g: Generated, *, per_org: int = 20, size: tuple[int, int] = (9_900, 10_000), seed: int = 5,
               log=print) -> Flood:
    """The flood of the method: organisations 38-40 each propose ``per_org`` unrelated texts of ~10,000
    characters to one paragraph without open amendments, then organisation 37 a one-word change."""
    from app.amending import operations as amending
    from app.extensions import db
    from app.models import OPEN_STATUSES, Amendment, Organisation, Paragraph, Statement, User

    rng = random.Random(seed)
    words = Words(rng)
    clock = Clock(datetime.fromisoformat(g.clock_end))
    busy = set(db.session.scalars(select(Amendment.paragraph_id).where(
        Amendment.statement_id == g.statement_id, Amendment.status.in_(OPEN_STATUSES))))
    pid = next((p for p in g.paragraph_ids if p not in busy), g.paragraph_ids[len(g.paragraph_ids) // 2])
    flood = Flood(paragraph_id=pid)
    n = len(g.org_ids)
    for org_n in (n - 2, n - 1, n):
        org_id = g.org(org_n)
        for _ in range(per_org):
            text = words.text_of_length(*size)
            t = time.perf_counter()
            amendment = amending.propose(
                db.session.get(Statement, g.statement_id), db.session.get(User, g.delegates[org_id]),
                db.session.get(Organisation, org_id), kind="modify", paragraph_id=pid, text=text,
                rationale="An unrelated text.", now=clock.tick(60))
            db.session.commit()
            flood.propose_seconds.append(time.perf_counter() - t)
            flood.flood_ids.append(amendment.id)
    org_id = g.org(n - 3)
    paragraph = db.session.get(Paragraph, pid)
    target = amending.propose(
        db.session.get(Statement, g.statement_id), db.session.get(User, g.delegates[org_id]),
        db.session.get(Organisation, org_id), kind="modify", paragraph_id=pid, text=words.one_word(paragraph.text),
        rationale="One word.", now=clock.tick(60))
    db.session.commit()
    flood.target_id = target.id
    log(f"    flood: {len(flood.flood_ids)} proposals on paragraph {pid}, "
        f"median {sorted(flood.propose_seconds)[len(flood.propose_seconds) // 2] * 1000:.0f} ms each")
    return flood


def withdraw_all(ids: list[int]) -> None:
    """Withdraw these amendments through the rule, each by its proposer (those still open)."""
    from app.amending import operations as amending
    from app.extensions import db
    from app.models import Amendment, User

    for amendment_id in ids:
        amendment = db.session.get(Amendment, amendment_id)
        if amendment is not None and amendment.is_open:
            amending.withdraw_amendment(amendment, db.session.get(User, amendment.proposer_id),
                                        now=datetime.now(UTC))
    db.session.commit()


def import_text(title: str, paragraphs: int = 1000, size: tuple[int, int] = (1_850, 1_950), seed: int = 9) -> str:
    """A pasted statement: the title, a blank line, then "N.\u00a0text" paragraphs separated by blank lines."""
    words = Words(random.Random(seed))
    blocks = [title] + [f"{n}.\u00a0{words.text_of_length(*size)}" for n in range(1, paragraphs + 1)]
    return "\n\n".join(blocks) + "\n"


def rewrite_every_paragraph(statement_id: int, author_id: int, *, seed: int = 13) -> int:
    """The next version of a draft with every paragraph replaced by unrelated words of similar length.

    As a draft edit does it (a new revision per paragraph), but recorded as one version by the app's
    ``snapshot``: 1,000 separate edits would store 1,000 versions of 2 MB. Returns its number."""
    from app.drafting.operations import live_paragraphs, snapshot
    from app.extensions import db
    from app.models import Revision, Statement, User

    words = Words(random.Random(seed))
    statement = db.session.get(Statement, statement_id)
    author = db.session.get(User, author_id)
    now = datetime.now(UTC)
    for paragraph in live_paragraphs(statement):
        length = len(paragraph.text)
        revision = Revision(paragraph_id=paragraph.id, parent_id=paragraph.current_revision_id,
                            text=words.text_of_length(int(length * 0.95), length), author_id=author.id,
                            created_at=now)
        db.session.add(revision)
        db.session.flush()
        paragraph.current_revision = revision
    db.session.flush()
    version = snapshot(statement, author, "Every paragraph rewritten (benchmark)", now=now)
    db.session.commit()
    return version.number
