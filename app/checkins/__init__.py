"""Check-ins: an SMS to each person abroad, 7 days after arrival and then monthly.

``due`` says who is due and when (pure), ``campaign`` sends a run's check-ins in
batches, ``replies`` acts on the answers (1 fine, 2 problem, 3 danger) and
``missed`` follows up on silence.
"""
