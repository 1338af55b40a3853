"""Protection abroad: distress cases, their escalation to missions, officers' answers.

``cases.open_case`` is the one way in for every report (SMS keywords, USSD "Get
help", check-in replies); ``escalation`` decides who is told and when;
``officers`` handles the officers' SMS commands; ``indicators`` reads the ILO
forced-labour indicators from what people write or answer; ``timeline`` writes
each case's history; ``safeguarding`` raises the flags the system itself sees (a
minor going abroad, a passport held twice).
"""
