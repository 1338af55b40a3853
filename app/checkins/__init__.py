"""Check-ins: an SMS to each person abroad, 7 days after arrival and then monthly.

``due`` says who is due and when (pure), ``campaign`` runs a send: ``eligible``
finds the placements due in SQL, ``pages`` writes each page's check-ins and SMS, and
``batches`` cuts, defers and re-sends their send jobs. ``replies`` acts on the
answers (1 fine, 2 problem, 3 danger) and ``missed`` follows up on silence.
"""
