"""Generate a large statement, quickly, from a seeded random generator.

What goes through the real rules (app.drafting / app.amending / app.signing):
creating the statement, opening it, the 199 accepts that make v2..v200 (each
with its new revision, snapshot, audit entry and the rebase of every open
sibling, so "rebased", "conflicted" and "obsolete" arise the real way),
freezing, the 40 signatures and publishing.

What is bulk-inserted with SQLAlchemy core, shaped as the rules shape it:
users, organisations and memberships; every amendment when it is proposed
(an "open" row plus its "proposed" history row, against the current text);
the rest of the amendments with their final status; every position and
comment. Bulk rows have no audit entries.
"""

from __future__ import annotations

import random
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import insert, select

from bench.common import PASSWORD

# Made-up words, so no real statement's text is copied; a few real function
# words keep the rhythm of prose (the tokeniser and the diff see words, spaces
# and punctuation exactly as in a real text).
_SYLLABLES = [
    "ca",
    "lo",
    "ren",
    "mi",
    "sa",
    "tor",
    "vel",
    "an",
    "is",
    "tu",
    "pra",
    "del",
    "on",
    "gre",
    "ma",
    "sti",
    "fe",
    "nu",
    "qua",
    "bor",
    "li",
    "ze",
    "ho",
    "ent",
    "ar",
]
_FUNCTION = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "a",
    "for",
    "that",
    "on",
    "with",
    "by",
    "as",
    "all",
    "its",
    "their",
    "we",
    "must",
    "shall",
    "not",
    "be",
    "is",
    "are",
    "every",
    "our",
]


@dataclass
class Spec:
    paragraphs: int = 300
    organisations: int = 40
    amendments: int = 2000
    versions: int = 200
    siblings_before_accepts: int = 300  # proposed through the rule, then hit by the accepts
    max_positions: int = 24  # per amendment, uniform 0..max
    max_comments: int = 6
    seed: int = 7
    title: str = "Charter of the Bench Federation"
    # Final mix of bulk statuses (accepted ones come from the accepts).
    status_weights: dict = field(
        default_factory=lambda: {"open": 46, "rejected": 30, "rebased": 8, "conflicted": 6, "withdrawn": 10}
    )


SMALL = Spec(
    paragraphs=10,
    organisations=4,
    amendments=40,
    versions=6,
    siblings_before_accepts=6,
    max_positions=4,
    max_comments=2,
    seed=11,
    title="A Short Bench Statement",
)


@dataclass
class Generated:
    statement_id: int
    slug: str
    coordinator_id: int
    participant_email: str  # a delegate (not the coordinator) to log in as
    amendment_id: int  # a representative amendment for the amendment page
    statuses: dict
    counts: dict
    seconds: float


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
            n = min(self.rng.randint(8, 24), target - total)
            n = max(n, 3)
            sentences.append(self.sentence(n))
            total += n
        return " ".join(sentences)

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


def _now() -> datetime:
    return datetime.now(UTC)


def generate(spec: Spec, *, log=print) -> Generated:
    from app.accounts.operations import SETUP_KEY
    from app.accounts.passwords import hash_password
    from app.amending import operations as amending
    from app.drafting import operations as drafting
    from app.errors import ConcordError
    from app.extensions import db
    from app.models import (
        Amendment,
        AmendmentRevision,
        Comment,
        Membership,
        Organisation,
        Paragraph,
        Position,
        SiteSetting,
        Statement,
        User,
    )

    started = time.perf_counter()
    rng = random.Random(spec.seed)
    words = Words(rng)
    now = _now()
    tag = f"s{spec.seed}"

    # --- people and organisations (bulk) --------------------------------------------------
    if db.session.get(SiteSetting, SETUP_KEY) is None:
        db.session.add(SiteSetting(key=SETUP_KEY, value=now.isoformat()))
    password_hash = hash_password(PASSWORD)
    orgs = [
        {
            "slug": f"{tag}-org-{i:02d}",
            "name": f"{words.word().capitalize()} {words.word().capitalize()} Association {i:02d} ({tag})",
            "short_name": f"{tag.upper()}O{i:02d}",
            "country": "",
            "created_at": now,
        }
        for i in range(1, spec.organisations + 1)
    ]
    db.session.execute(insert(Organisation), orgs)
    org_ids = list(
        db.session.scalars(
            select(Organisation.id)
            .where(Organisation.slug.like(f"{tag}-org-%"))
            .order_by(Organisation.slug)
        )
    )
    users = []
    for i in range(1, spec.organisations + 1):
        for role in ("delegate", "signatory"):
            users.append(
                {
                    "email": f"{role}{i:02d}@{tag}.bench.example",
                    "name": f"{role.title()} {i:02d} {tag}",
                    "password_hash": password_hash,
                    "is_admin": False,
                    "active": True,
                    "session_token": secrets.token_hex(16),
                    "created_at": now,
                }
            )
    db.session.execute(insert(User), users)
    user_ids = {
        u.email: u.id
        for u in db.session.execute(
            select(User.email, User.id).where(User.email.like(f"%@{tag}.bench.example"))
        )
    }
    delegates = {
        org_ids[i - 1]: user_ids[f"delegate{i:02d}@{tag}.bench.example"]
        for i in range(1, spec.organisations + 1)
    }
    signatories = {
        org_ids[i - 1]: user_ids[f"signatory{i:02d}@{tag}.bench.example"]
        for i in range(1, spec.organisations + 1)
    }
    db.session.execute(
        insert(Membership),
        [
            {"organisation_id": o, "user_id": u, "role": r, "created_at": now}
            for r, table in (("delegate", delegates), ("signatory", signatories))
            for o, u in table.items()
        ],
    )
    db.session.commit()

    # --- the statement, through the rules -----------------------------------------------------
    coordinator = db.session.get(User, delegates[org_ids[0]])
    organisations = {
        o.id: o for o in db.session.scalars(select(Organisation).where(Organisation.id.in_(org_ids)))
    }
    texts = [words.paragraph() for _ in range(spec.paragraphs)]
    statement = drafting.create_statement(
        coordinator,
        title=spec.title,
        coordinator_organisation=organisations[org_ids[0]],
        participants=[organisations[i] for i in org_ids],
        paragraphs=texts,
        now=_now(),
    )
    amending.open_for_amendments(statement, coordinator, rule="coordinator", deadline=None, now=_now())
    db.session.commit()
    statement_id = statement.id
    slug = statement.slug
    t_statement = time.perf_counter()

    paragraphs = drafting.live_paragraphs(statement)
    pids = [p.id for p in paragraphs]
    current = {p.id: p.text for p in paragraphs}
    # A skewed spread: a fifth of the paragraphs draw half of the amendments.
    hot = rng.sample(pids, max(1, len(pids) // 5))

    def pick_paragraph() -> int:
        return rng.choice(hot) if rng.random() < 0.5 else rng.choice(pids)

    revision_of = {p.id: p.current_revision_id for p in paragraphs}
    numbers = {p.id: n for n, p in enumerate(paragraphs, start=1)}

    def propose(pid: int) -> int:
        """An open modify amendment against the current text, as ``amending.propose`` makes it (bulk)."""
        org_id = rng.choice(org_ids)
        stamp = _now()
        row = {
            "statement_id": statement_id,
            "kind": "modify",
            "status": "open",
            "organisation_id": org_id,
            "proposer_id": delegates[org_id],
            "paragraph_id": pid,
            "base_revision_id": revision_of[pid],
            "base_text": current[pid],
            "proposed_text": words.mutate(current[pid]),
            "base_number": numbers[pid],
            "rationale": "",
            "text_version": 1,
            "round": 1,
            "created_at": stamp,
            "updated_at": stamp,
        }
        amendment_id = db.session.execute(insert(Amendment).returning(Amendment.id), [row]).scalar_one()
        db.session.execute(
            insert(AmendmentRevision),
            [
                {
                    "amendment_id": amendment_id,
                    "reason": "proposed",
                    "base_revision_id": row["base_revision_id"],
                    "base_text": row["base_text"],
                    "proposed_text": row["proposed_text"],
                    "rationale": "",
                    "author_id": row["proposer_id"],
                    "created_at": stamp,
                }
            ],
        )
        return amendment_id

    # Siblings first, on the hot paragraphs that the accepts will hit; the accepts rebase them.
    for _ in range(spec.siblings_before_accepts):
        propose(rng.choice(hot))
    db.session.commit()
    accept_targets = hot * (1 + spec.versions // max(1, len(hot)))
    rng.shuffle(accept_targets)
    accepted = 0
    while accepted < spec.versions - 1:
        pid = accept_targets.pop() if accept_targets and rng.random() < 0.7 else rng.choice(pids)
        amendment = db.session.get(Amendment, propose(pid))
        try:
            amending.accept(amendment, coordinator, text_version=None, now=_now())
        except ConcordError:
            db.session.rollback()
            continue
        paragraph = db.session.get(Paragraph, pid)
        current[pid], revision_of[pid] = paragraph.text, paragraph.current_revision_id
        db.session.commit()
        accepted += 1
    db.session.expire_all()
    t_accepts = time.perf_counter()

    # --- the rest of the amendments (bulk) ----------------------------------------------------
    statement = db.session.get(Statement, statement_id)
    paragraphs = drafting.live_paragraphs(statement)
    revision_of = {p.id: p.current_revision_id for p in paragraphs}
    current = {p.id: p.text for p in paragraphs}
    numbers = {p.id: n for n, p in enumerate(paragraphs, start=1)}
    existing = db.session.scalar(
        select(db.func.count()).select_from(Amendment).where(Amendment.statement_id == statement_id)
    )
    statuses, weights = zip(*spec.status_weights.items(), strict=False)
    rows = []
    for _ in range(max(0, spec.amendments - existing)):
        status = rng.choices(statuses, weights)[0]
        org_id = rng.choice(org_ids)
        pid = pick_paragraph()
        kind = rng.choices(("modify", "insert", "delete", "retitle"), (86, 8, 5, 1))[0]
        row = {
            "statement_id": statement_id,
            "kind": kind,
            "status": status,
            "organisation_id": org_id,
            "proposer_id": delegates[org_id],
            "rationale": words.sentence(rng.randint(5, 30)),
            "text_version": 1,
            "round": 1,
            "created_at": now,
            "updated_at": now,
            "paragraph_id": None,
            "base_revision_id": None,
            "base_text": "",
            "proposed_text": "",
            "base_number": None,
            "decision_reason": "",
            "decided_at": None,
            "decided_by_id": None,
        }
        if kind in ("modify", "delete"):
            row.update(
                paragraph_id=pid,
                base_revision_id=revision_of[pid],
                base_text=current[pid],
                base_number=numbers[pid],
            )
            if kind == "modify":
                row["proposed_text"] = words.mutate(current[pid])
        elif kind == "insert":
            row.update(paragraph_id=pid, base_number=numbers[pid], proposed_text=words.paragraph(40, 120))
        else:
            row.update(base_text=spec.title, proposed_text=spec.title + " " + words.word())
        if status in ("rejected", "withdrawn"):
            row.update(
                decided_at=now,
                decided_by_id=coordinator.id if status == "rejected" else delegates[org_id],
                decision_reason="Not in line with the agreed scope." if status == "rejected" else "",
            )
        rows.append(row)
    if rows:
        db.session.execute(insert(Amendment), rows)
    amendments = db.session.execute(
        select(
            Amendment.id,
            Amendment.organisation_id,
            Amendment.proposer_id,
            Amendment.base_text,
            Amendment.proposed_text,
            Amendment.base_revision_id,
            Amendment.rationale,
        )
        .where(Amendment.statement_id == statement_id)
        .order_by(Amendment.id)
    ).all()
    have_history = set(
        db.session.scalars(
            select(AmendmentRevision.amendment_id)
            .join(Amendment)
            .where(Amendment.statement_id == statement_id)
        )
    )
    db.session.execute(
        insert(AmendmentRevision),
        [
            {
                "amendment_id": a.id,
                "reason": "proposed",
                "base_revision_id": a.base_revision_id,
                "base_text": a.base_text,
                "proposed_text": a.proposed_text,
                "rationale": a.rationale,
                "author_id": a.proposer_id,
                "created_at": now,
            }
            for a in amendments
            if a.id not in have_history
        ],
    )

    positions, comments = [], []
    for a in amendments:
        for org_id in rng.sample(org_ids, rng.randint(0, min(spec.max_positions, len(org_ids)))):
            positions.append(
                {
                    "amendment_id": a.id,
                    "organisation_id": org_id,
                    "user_id": delegates[org_id],
                    "stance": rng.choices(("support", "oppose", "abstain"), (6, 3, 1))[0],
                    "reason": words.sentence(rng.randint(4, 16)) if rng.random() < 0.3 else "",
                    "round": 1,
                    "created_at": now,
                }
            )
        for _ in range(rng.randint(0, spec.max_comments)):
            org_id = rng.choice(org_ids)
            comments.append(
                {
                    "amendment_id": a.id,
                    "parent_id": None,
                    "author_id": delegates[org_id],
                    "body": " ".join(words.sentence(rng.randint(6, 20)) for _ in range(rng.randint(1, 3))),
                    "created_at": now,
                }
            )
    if positions:
        db.session.execute(insert(Position), positions)
    if comments:
        db.session.execute(insert(Comment), comments)
    # One reply in three, one level deep.
    tops = db.session.execute(
        select(Comment.id, Comment.amendment_id)
        .join(Amendment)
        .where(Amendment.statement_id == statement_id)
        .order_by(Comment.id)
    ).all()
    replies = [
        {
            "amendment_id": c.amendment_id,
            "parent_id": c.id,
            "author_id": rng.choice(list(delegates.values())),
            "body": words.sentence(rng.randint(5, 15)),
            "created_at": now,
        }
        for c in tops
        if rng.random() < 0.33
    ]
    if replies:
        db.session.execute(insert(Comment), replies)
    db.session.commit()
    t_bulk = time.perf_counter()

    # --- what was made -------------------------------------------------------------------------
    status_counts = dict(
        db.session.execute(
            select(Amendment.status, db.func.count())
            .where(Amendment.statement_id == statement_id)
            .group_by(Amendment.status)
        ).all()
    )
    # The amendment page: an open modify amendment with positions and comments; prefer a rebased one.
    candidates = db.session.execute(
        select(Amendment.id, Amendment.status)
        .where(
            Amendment.statement_id == statement_id,
            Amendment.kind == "modify",
            Amendment.status.in_(("rebased", "open")),
        )
        .order_by(Amendment.id)
    ).all()
    comment_count = dict(
        db.session.execute(
            select(Comment.amendment_id, db.func.count()).group_by(Comment.amendment_id)
        ).all()
    )
    position_count = dict(
        db.session.execute(
            select(Position.amendment_id, db.func.count()).group_by(Position.amendment_id)
        ).all()
    )
    chosen = max(
        candidates,
        key=lambda c: (
            c.status == "rebased",
            comment_count.get(c.id, 0) > 0,
            position_count.get(c.id, 0) >= spec.max_positions // 2,
            -c.id,
        ),
    )
    statement = db.session.get(Statement, statement_id)
    counts = {
        "paragraphs": len(paragraphs),
        "words_min": min(len(t.split()) for t in current.values()),
        "words_max": max(len(t.split()) for t in current.values()),
        "organisations": len(org_ids),
        "amendments": sum(status_counts.values()),
        "positions": len(positions),
        "comments": len(comments) + len(replies),
        "versions": statement.version_count,
        "amendment_page": {
            "id": chosen.id,
            "status": chosen.status,
            "positions": position_count.get(chosen.id, 0),
            "comments": comment_count.get(chosen.id, 0),
        },
    }
    seconds = time.perf_counter() - started
    log(
        f"    generated in {seconds:.1f} s (statement {t_statement - started:.1f} s, "
        f"{spec.versions - 1} accepts {t_accepts - t_statement:.1f} s, bulk {t_bulk - t_accepts:.1f} s)"
    )
    return Generated(
        statement_id=statement_id,
        slug=slug,
        coordinator_id=coordinator.id,
        participant_email=f"delegate{min(5, spec.organisations):02d}@{tag}.bench.example",
        amendment_id=chosen.id,
        statuses=status_counts,
        counts=counts,
        seconds=seconds,
    )


def freeze_sign_publish(generated: Generated) -> float:
    """Freeze the statement, let every organisation sign, publish. Returns the seconds taken."""
    from app.extensions import db
    from app.models import Membership, Organisation, Statement, User
    from app.publishing import publication as publishing
    from app.signing import operations as signing

    started = time.perf_counter()
    statement = db.session.get(Statement, generated.statement_id)
    coordinator = db.session.get(User, generated.coordinator_id)
    signing.freeze(statement, coordinator, now=_now())
    db.session.commit()
    statement = db.session.get(Statement, generated.statement_id)
    sha = statement.frozen_version.sha256
    for org in list(statement.participant_organisations):
        signer = db.session.scalar(
            select(User)
            .join(Membership)
            .where(Membership.organisation_id == org.id, Membership.role == "signatory")
        )
        signing.sign(
            statement,
            signer,
            db.session.get(Organisation, org.id),
            signer_name=signer.name,
            signer_title="Secretary General",
            authorised=True,
            password=PASSWORD,
            version_sha256=sha,
            now=_now(),
        )
        db.session.commit()
    statement = db.session.get(Statement, generated.statement_id)
    publishing.publish(statement, coordinator, publication_date=None, now=_now())
    db.session.commit()
    return time.perf_counter() - started
