"""Staff: the people who sign in to the console or call the staff API, and what they did.

- ``accounts``: creating accounts, passwords (argon2id), the lockout, set-password links;
- ``login``: the signed-in staff member of a request, the session cookie and CSRF;
- ``roles``: what each role may open (view decorators, labels);
- ``scope``: what each role may see, as SQL;
- ``keys``: staff API keys (and the key format agency keys share);
- ``throttle``: failed sign-ins counted per address;
- ``audit``: the append-only audit log.

The console (``app/console``), the staff endpoints of the API (``app/api``) and
``kazi users`` import this package; it imports none of them.
"""
