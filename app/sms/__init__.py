"""SMS, both ways: everything between a Message row or an AT callback and the wire.

- ``outbox``: queue an outbound SMS, then claim, send, record and retry it (jobs);
- ``inbound``: store, spool, drain and route an incoming SMS (jobs);
- ``delivery``: apply AT's delivery reports;
- ``gsm``: the GSM-7 alphabet (pure; the menus use it);
- ``backends``: the wire, AT's SDK or the local outbox.

This file imports nothing, so the pure ``menus`` package can use ``app.sms.gsm``
without loading SQL, Redis or Flask.
"""
