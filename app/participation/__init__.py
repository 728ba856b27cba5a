"""Who takes part in a statement: invitations of organisations (answered on the platform, or by a
contact through an e-mailed link), withdrawals and re-invitations. Plain functions: they take the
acting user, flush, never commit.

``invitations`` holds the statement invitations; ``withdrawals`` an organisation leaving and being
invited back. What a person may see and do on a statement is answered elsewhere (rights).
"""
