"""The maxima: how much any one person can make Concord store or compute (docs/limits.md).

Promise 10: no request's cost depends on what someone else sent beyond these, and at these
maxima every request finishes within 2 s on the smallest machine we support. The rules
(app/drafting, app/amending) enforce the sizes, so the web forms, the API and the CLI all get
them; the forms repeat them only as hints. The per-person rate limit on proposals is a
deployment setting (``RATELIMIT_PROPOSE_PER_USER`` in config.py). Imports nothing of app.
"""

# --- sizes ---------------------------------------------------------------------------------

#: A statement's title, in characters.
MAX_TITLE_CHARS = 300
#: One paragraph (and a proposed paragraph text), in characters after normalisation.
MAX_PARAGRAPH_CHARS = 10_000
#: Live paragraphs in one statement.
MAX_PARAGRAPHS = 1_000
#: All live paragraphs of one statement together, in characters. Every character is at least
#: one byte in UTF-8, so any text of up to 2 MB fits.
MAX_STATEMENT_CHARS = 2_000_000
#: A file or pasted text to import, in bytes (UTF-8): room for the numbers and blank lines
#: around a statement of MAX_STATEMENT_CHARS.
MAX_IMPORT_BYTES = 3 * 1024 * 1024
#: A rationale, a position's reason or a reason for rejecting, in characters.
MAX_RATIONALE_CHARS = 5_000
#: A comment, in characters.
MAX_COMMENT_CHARS = 10_000
#: Open (open, rebased or conflicted) amendments one organisation may have at one place of a
#: statement: a paragraph (modifying or deleting it, or inserting after it), the title, or
#: "insert at the top". What an accept has to rebase grows with this.
MAX_OPEN_AMENDMENTS_PER_PLACE = 20
#: Open suggestions one organisation may have on one amendment (app/amending/suggestions.py): what
#: an amendment's page lists and its proposer has to read grows with this.
MAX_OPEN_SUGGESTIONS_PER_ORGANISATION = 20
#: Amendments the coordinator accepts in one action (the merged view's "Accept selected"): they
#: share the time budget of one accept, so the request stays within its bound.
MAX_ACCEPT_MANY = 100

# --- time budgets (seconds of computing, not of waiting) -------------------------------------

#: One word diff (app/diffing/words.py). Out of time, it returns a coarser diff that is still
#: exact: the unchanged start and end, and everything between deleted and inserted.
WORD_DIFF_SECONDS = 0.25
#: All the word diffs one page or API response computes when it is requested: the changed
#: paragraphs of a comparison of two versions, the revisions behind a "who wrote what" page,
#: the diffs a page renders. Past it the rest are shown whole (old text deleted, new text
#: inserted) and a comparison says so.
PAGE_DIFF_SECONDS = 0.8
