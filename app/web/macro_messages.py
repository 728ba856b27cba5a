"""The messages of templates/_macros, for the catalogues.

Babel does not walk directories whose name starts with "_" (pybabel extract skips them), so the
macros' messages are listed here to be extracted; the templates translate them where they show them.
Keep this list in step with templates/_macros/*.html (tests/test_i18n_people.py checks it).
"""

from app.i18n import N_

MACRO_MESSAGES = (
    N_('The form expired. Please send it again.'),
    N_('open'),
    N_('expired'),
    N_('used'),
    N_('accepted'),
    N_('declined'),
    N_('revoked'),
    N_('Invitation link'),
    N_('the invitation link'),
    N_('delegate'),
    N_('signatory'),
    N_('admin'),
    N_('into %(organisation)s'),
    N_('as platform admin'),
    N_('no organisation'),
    N_('Invited by %(name)s on %(date)s; works until %(until)s.'),
    N_('Invited by %(name)s on %(date)s; expired on %(until)s.'),
    N_('Invited by %(name)s on %(date)s; used on %(when)s.'),
    N_('Invited by %(name)s on %(date)s; revoked on %(when)s.'),
    N_('Invited by %(name)s on %(date)s.'),
    N_('Send again'),
    N_(' to %(who)s'),
    N_('Revoke'),
    N_(' the invitation of %(who)s'),
    N_('Revoke the invitation of %(who)s? Its link stops working.'),
    N_('No invitations yet.'),
    N_('Pages'),
    N_('← Previous'),
    N_('Page %(page)s of %(pages)s'),
    N_('Next →'),
)
