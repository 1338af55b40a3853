"""Job listings: agencies submit them by API, a job validates them, people check them.

``codes`` makes and reads the public 6-character code; ``submission`` checks an
agency's JSON; ``rules`` holds the red-flag rules; ``service`` stores listings,
applies a validation outcome and holds listings; ``review`` is NEA staff's decision
on a listing the rules sent for review; ``check`` answers people who check a code by
USSD or SMS.
"""
