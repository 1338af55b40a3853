"""The NEA register of recruitment agencies: import, search, checks and warnings.

- ``names``: agency names and licence numbers as search keys and display text;
- ``register``: the licence register CSV import;
- ``search``: by licence number or forgiving name, over an in-process index;
- ``checks``: the answer to "check an agency", complaints and risk signals;
- ``journey`` and ``sms``: the USSD port and event handlers, the ``AGENCY`` keyword;
- ``demo``: a realistic demo register for ``kazi seed-demo``.
"""
