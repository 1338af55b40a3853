"""One hop at a time: repeated and concurrent hops, the session in Redis, the hop connection."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from redis import Redis

from app.models import Message, Person
from app.sessions import SESSION_KEY
from tests.ussd.helpers import ANSWERS, ENGLISH, START, count, play


def test_a_repeated_hop_returns_the_same_screen_and_does_nothing_twice(phone, svc):
    p = phone()
    p.dial()
    play(p, ENGLISH + START + ANSWERS)
    done = p.send("1")
    assert p.repeat() == done
    assert p.repeat() == done
    assert count(svc, Person) == 1
    assert count(svc, Message) == 1


def test_concurrent_copies_of_one_hop_commit_once(phone, svc, client):
    p = phone()
    p.dial()
    play(p, ENGLISH + START + ANSWERS)
    form = {"sessionId": p.session_id, "serviceCode": "*384*2026#",
            "phoneNumber": p.number, "networkCode": "63902", "text": p.text + "*1"}

    def post(_):
        return client.post("/ussd", data=form).get_data(as_text=True)

    with ThreadPoolExecutor(max_workers=6) as pool:
        replies = list(pool.map(post, range(6)))
    assert len(set(replies)) == 1, replies
    assert replies[0].startswith("END Registered!")
    assert count(svc, Person) == 1
    assert count(svc, Message) == 1


def test_concurrent_different_hops_do_not_corrupt_the_session(phone, svc, client):
    p = phone()
    p.dial()
    play(p, ENGLISH + START)
    base = {"sessionId": p.session_id, "serviceCode": "*384*2026#",
            "phoneNumber": p.number, "networkCode": "63902"}

    def post(name):
        return client.post("/ussd", data={**base, "text": p.text + "*" + name})

    with ThreadPoolExecutor(max_workers=4) as pool:
        replies = list(pool.map(post, ["Ann Apiyo", "Bob Baraka", "Cy Chebet", "Di Dida"]))
    assert all(r.status_code == 200 for r in replies)
    session = svc.redis.get(SESSION_KEY.format(p.session_id))
    assert session is not None  # still readable: one of the hops won, whole


def test_session_key_has_a_ttl_refreshed_every_hop(phone, svc):
    p = phone()
    p.dial()
    key = SESSION_KEY.format(p.session_id)
    assert svc.redis.ttl(key) >= 180
    svc.redis.expire(key, 50)
    play(p, ENGLISH)
    assert svc.redis.ttl(key) >= 180


def test_session_state_in_redis_is_encrypted(phone, svc):
    p = phone()
    p.dial()
    play(p, ENGLISH + START + ["Jane Wanjiru", "12345678"])
    raw = svc.redis.get(SESSION_KEY.format(p.session_id))
    assert b"Wanjiru" not in raw and b"12345678" not in raw


def _one_hop_behind_a_control(phone):
    """Give a control phone past the language and "Register", and a fresh phone one hop
    behind it (language chosen): its next "1" must draw the control's screen."""
    control = phone("+254712345670")
    control.dial()
    play(control, ENGLISH + START[:1])
    p = phone()
    p.dial()
    p.send("1")
    return control, p


def test_a_dropped_redis_connection_is_remade_by_the_next_hop(phone, svc):
    """Redis dropping the connection a hop is about to use costs the hop nothing."""
    control, p = _one_hop_behind_a_control(phone)
    # The pool lends its most recently returned connection: the one just asked its id.
    victim = svc.redis.client_id()
    with Redis.from_url(svc.config["REDIS_URL"]) as killer:
        assert killer.client_kill_filter(_id=victim) == 1
    assert p.send("1") == control.screen  # the hop went on as if nothing happened
    assert "busy" not in p.screen


def test_a_redis_that_forgot_the_save_script_still_saves(phone, app, svc):
    """Hops save with EVALSHA; a restarted Redis (here SCRIPT FLUSH) gets the script again."""
    control, p = _one_hop_behind_a_control(phone)
    svc.redis.script_flush()
    assert p.send("1") == control.screen
    sealed = svc.redis.get(SESSION_KEY.format(p.session_id))
    assert app.extensions["kazi.sessions"].open(sealed)["text"] == "1*1"
    assert svc.redis.script_exists(app.extensions["kazi.sessions"]._cas.sha) == [True]
    assert p.send("1") == control.send("1")  # the next save finds it cached again
