"""USSD transcripts played through POST /ussd exactly as Africa's Talking posts them."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from redis import Redis
from sqlalchemy import func, select

from app import create_app
from app.models import Contact, Message, Person, RegistrationDraft, SafeguardingFlag, UssdEvent
from app.sessions import RESUME_KEY, SESSION_KEY

ENGLISH = ["1"]
SWAHILI = ["2"]
# After the language: Register, consent page 1, consent page 2.
START = ["1", "1", "1"]
ANSWERS = ["Jane Wanjiru", "12345678", "1995", "1", "kiambu", "3", "1", "3", "1 3"]


def count(svc, model, *where):
    with svc.db.Session() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def person(svc, phone="+254712345678"):
    with svc.db.Session() as session:
        return session.scalar(select(Person).where(Person.phone == phone))


def play(p, inputs):
    for value in inputs:
        p.send(value)
    return p.screen


def register(p, lang=ENGLISH, answers=ANSWERS):
    p.dial()
    return play(p, lang + START + answers + ["1"])


def test_first_dial_asks_the_language(phone):
    p = phone()
    assert p.dial() == ("CON Karibu Kazi Salama\nChoose language / Chagua lugha:\n"
                        "1 English\n2 Kiswahili")


def test_full_registration_in_english(phone, svc):
    p = phone()
    p.dial()
    assert play(p, ENGLISH).startswith("CON Kazi Salama: safe work")
    assert "1 Register" in p.screen
    assert "safe jobs" in play(p, ["1"])
    assert "I agree" in play(p, ["1"])
    assert play(p, ["1"]) == "CON Enter your full name (as on your ID):"
    assert "national ID" in play(p, ["jane  wanjiru"])
    assert "year of birth" in play(p, ["12345678"])
    assert "Gender" in play(p, ["1995"])
    assert "Home county" in play(p, ["1"])
    assert "education" in play(p, ["kiambu"])
    assert "skill" in play(p, ["3"])
    assert "Where do you want to work" in play(p, ["1"])
    assert "Where abroad" in play(p, ["3"])
    summary = play(p, ["1 3"])
    assert summary == ("CON Confirm:\nJane Wanjiru\nID ..5678, 1995, Female\nKiambu\n"
                       "Domestic worker\nWork: Both (SA,QA)\n1 Confirm\n2 Cancel")
    done = play(p, ["1"])
    stored = person(svc)
    assert done == (f"END Registered! Your number is {stored.reg_no}. "
                    "We have sent it by SMS. Dial *384*2026# any time.")
    assert stored.full_name == "Jane Wanjiru"
    assert stored.county_code == 22 and stored.destinations == "SA,QA"
    assert stored.consent_version and stored.consent_channel == "ussd"
    assert stored.lang == "en"
    # The national ID is ciphertext at rest, found through the blind index.
    assert b"12345678" not in stored.national_id_enc
    assert svc.cipher.decrypt(stored.national_id_enc) == "12345678"
    assert stored.national_id_bidx == svc.cipher.blind_index("national_id", "12345678")


def test_registration_in_kiswahili_queues_a_kiswahili_sms(phone, svc):
    p = phone()
    done = register(p, lang=SWAHILI)
    assert done.startswith("END Umesajiliwa! Nambari yako ni KS")
    with svc.db.Session() as session:
        message = session.scalar(select(Message))
    assert message.to_phone == "+254712345678"
    assert message.body.startswith("Kazi Salama: Jane, umesajiliwa.")
    assert message.status == "pending"


def test_confirmation_sms_reaches_the_phone_through_the_worker(phone, svc, work, at_api):
    register(phone())
    assert work() >= 1
    assert len(at_api.sent) == 1
    number, body, message_id = at_api.sent[0]
    assert number == "+254712345678"
    assert "you are registered" in body
    with svc.db.Session() as session:
        message = session.scalar(select(Message))
    assert message.status == "sent" and message.at_message_id == message_id


def test_language_is_remembered_per_number(phone):
    p = phone()
    p.dial()
    play(p, SWAHILI)
    again = phone().dial()
    assert again.startswith("CON Kazi Salama: kazi salama")


def test_main_menu_differs_for_registered_people(phone, svc):
    p = phone()
    guest = p.dial() and play(p, ENGLISH)
    assert "1 Register" in guest
    register(phone(), lang=[])
    member = phone().dial()
    assert member.startswith("CON Welcome Jane (KS")
    assert "My profile" in member and "Register" not in member


def test_declining_consent_stores_nothing(phone, svc):
    p = phone()
    p.dial()
    assert play(p, ENGLISH + ["1", "2"]).startswith("END Nothing was saved.")
    p.dial()
    assert play(p, ["1", "1", "2"]).startswith("END Nothing was saved.")
    assert count(svc, Person) == 0


def test_an_id_already_registered_gets_a_clear_message_and_no_second_record(phone, svc):
    register(phone("+254712345678"))
    other = phone("+254722000111")
    other.dial()
    play(other, ENGLISH + START + ["Asha Ali"])
    shown = play(other, ["12345678"])
    assert shown.startswith("CON This ID is already registered.")
    assert not other.ended
    assert count(svc, Person) == 1


@pytest.mark.parametrize("bad", ["123456", "123456789", "1234567890123", "12ab5678", "",
                                 "1" * 200])
def test_wrong_national_ids_are_reasked(phone, bad):
    p = phone()
    p.dial()
    play(p, ENGLISH + START + ["Jane Wanjiru"])
    shown = play(p, [bad])
    assert shown.startswith("CON ")
    assert "ID must be 7-8 digits" in shown or "type an answer" in shown


def test_maisha_namba_is_accepted(phone, svc):
    register(phone(), answers=["Jane Wanjiru", "12345678901234", *ANSWERS[2:]])
    assert svc.cipher.decrypt(person(svc).national_id_enc) == "12345678901234"


def test_county_by_number_typo_and_pages(phone):
    p = phone()
    p.dial()
    play(p, ENGLISH + START + ANSWERS[:4])
    page2 = play(p, ["98"])
    assert page2.startswith("CON Home county?") and "11 " in page2
    assert "education" in play(p, ["nairobbi"])
    assert "Home county" in play(p, ["0"])
    assert "education" in play(p, ["47"])


def test_ambiguous_county_narrows_the_list(phone):
    p = phone()
    p.dial()
    play(p, ENGLISH + START + ANSWERS[:4])
    narrowed = play(p, ["ka"])
    assert "34 Kajiado" in narrowed and "37 Kakamega" in narrowed
    assert "1 Mombasa" not in narrowed
    assert "education" in play(p, ["37"])


def test_occupation_menu_pages_with_98(phone):
    p = phone()
    p.dial()
    play(p, ENGLISH + START + ANSWERS[:6])
    first_page = p.screen
    assert "98 More" in first_page
    more = play(p, ["98"])
    assert "14 Other" in more
    assert "Where do you want" in play(p, ["13"])


SCREENS_BEFORE = {
    "consent": ENGLISH + ["1"],
    "name": ENGLISH + START,
    "id": ENGLISH + START + ANSWERS[:1],
    "year": ENGLISH + START + ANSWERS[:2],
    "gender": ENGLISH + START + ANSWERS[:3],
    "county": ENGLISH + START + ANSWERS[:4],
    "education": ENGLISH + START + ANSWERS[:5],
    "occupation": ENGLISH + START + ANSWERS[:6],
    "where": ENGLISH + START + ANSWERS[:7],
    "destinations": ENGLISH + START + ANSWERS[:8],
    "summary": ENGLISH + START + ANSWERS,
}
BAD_INPUTS = ["99", "", "x" * 200, "Ĳóñ 𝄞 ☃", "*#*", "  "]


@pytest.mark.parametrize("where", SCREENS_BEFORE)
@pytest.mark.parametrize("bad", BAD_INPUTS, ids=["option", "empty", "200chars", "non-gsm",
                                                 "star", "spaces"])
def test_bad_input_on_every_screen_reasks(phone, svc, where, bad):
    p = phone()
    p.dial()
    before = play(p, SCREENS_BEFORE[where])
    shown = play(p, [bad])
    assert shown.startswith("CON "), shown
    assert len(shown) - 4 <= 160
    # The same screen again, with a short reason in front (or in its place).
    assert shown != before or bad == "x"
    assert count(svc, Person) == 0
    assert any(reason in shown for reason in (
        "Invalid choice", "Please type an answer", "Use letters A-Z", "Too long",
        "at least two names", "ID must be", "4-digit year", "Choose 1 to 3",
    )), shown


def test_a_star_inside_a_name_is_one_answer_not_two(phone):
    p = phone()
    p.dial()
    play(p, ENGLISH + START)
    shown = play(p, ["Jane*Doe"])
    assert shown.startswith("CON Enter at least two names")  # re-asked, not skipped ahead


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


def test_under_18_cannot_register_to_work_abroad(phone, svc):
    from datetime import date

    p = phone()
    p.dial()
    young = str(date.today().year - 16)
    play(p, ENGLISH + START + ["Baraka Otieno", "7654321", young, "2", "1", "3", "2"])
    minor = play(p, ["2"])  # abroad
    assert minor.startswith("CON You must be 18 or older to work abroad.")
    summary = play(p, ["1"])  # register for Kenya instead
    assert "Work: In Kenya" in summary
    play(p, ["1"])
    stored = person(svc)
    assert stored.work_where == "kenya" and stored.minor_abroad is True
    assert count(svc, SafeguardingFlag, SafeguardingFlag.kind == "minor_abroad") == 1


def test_a_minor_who_exits_is_flagged_and_not_registered(phone, svc):
    from datetime import date

    p = phone()
    p.dial()
    play(p, ENGLISH + START + ["Baraka Otieno", "7654321", str(date.today().year - 15),
                                "2", "1", "3", "2", "2"])
    assert play(p, ["2"]).startswith("END Thank you. If anyone offers you work abroad")
    assert count(svc, Person) == 0
    assert count(svc, SafeguardingFlag) == 1


def test_my_profile_shows_the_number_and_changes_language(phone, svc):
    register(phone())
    p = phone()
    p.dial()
    profile = play(p, ["1"])
    assert profile.startswith(f"CON My profile\nRegistration no: {person(svc).reg_no}")
    play(p, ["1", "2"])  # change language -> Kiswahili
    assert p.screen.startswith("CON Karibu Jane")
    assert person(svc).lang == "sw"


def test_withdrawing_consent_erases_the_record(phone, svc):
    register(phone())
    p = phone()
    p.dial()
    assert play(p, ["1", "2"]).startswith("CON Delete your registration?")
    assert play(p, ["1"]).startswith("END Done. Your details are erased.")
    with svc.db.Session() as session:
        erased = session.scalar(select(Person))
    assert erased.status == "withdrawn"
    assert erased.full_name is None and erased.national_id_enc is None
    assert erased.national_id_bidx is None and erased.phone is None
    assert phone().dial().startswith("CON Kazi Salama: safe work")  # a guest again
    # The ID can register again after withdrawal.
    assert register(phone(), lang=[]).startswith("END Registered!")


def test_a_new_dial_offers_to_continue_a_cut_off_registration(phone, svc):
    p = phone()
    p.dial()
    play(p, ENGLISH + START + ["Jane Wanjiru", "12345678"])
    again = phone()
    offer = again.dial()
    assert offer.startswith("CON You did not finish registering.")
    resumed = play(again, ["1"])
    assert resumed == "CON Enter your year of birth, e.g. 1995:"
    play(again, ANSWERS[2:] + ["1"])
    assert again.screen.startswith("END Registered!")
    assert person(svc).full_name == "Jane Wanjiru"
    assert svc.redis.get(RESUME_KEY.format(p.number)) is None


def test_start_again_discards_the_old_answers(phone):
    p = phone()
    p.dial()
    play(p, ENGLISH + START + ["Jane Wanjiru"])
    again = phone()
    again.dial()
    assert "safe jobs" in play(again, ["2"])


def test_incomplete_session_keeps_a_draft_and_schedules_one_reminder(phone, svc):
    p = phone()
    p.dial()
    play(p, ENGLISH + START + ["Jane Wanjiru", "12345678"])
    p.hang_up("Incomplete")
    p.hang_up("Incomplete")  # AT retries the report
    assert count(svc, UssdEvent) == 1
    assert count(svc, RegistrationDraft) == 1
    scheduled = svc.queues["default"].scheduled_job_registry.get_job_ids()
    assert len(scheduled) == 1
    # Even after the resume pointer in Redis is gone, the draft in SQL resumes it.
    svc.redis.delete(RESUME_KEY.format(p.number))
    assert phone().dial().startswith("CON You did not finish registering.")


def test_successful_session_report_is_stored_without_a_draft(phone, svc):
    p = phone()
    register(p)
    p.hang_up("Success")
    assert count(svc, UssdEvent) == 1
    assert count(svc, RegistrationDraft) == 0


def test_language_choice_is_stored_in_sql(phone, svc):
    p = phone()
    p.dial()
    play(p, SWAHILI)
    with svc.db.Session() as session:
        assert session.scalar(select(Contact.lang).where(Contact.phone == p.number)) == "sw"


def test_local_number_formats_are_normalised(phone, svc):
    p = phone("0712345678")
    register(p)
    assert person(svc, "+254712345678") is not None


# --- malformed callbacks, tokens, outages ---------------------------------------

def test_malformed_callbacks_get_a_screen_and_a_4xx(client):
    for form in ({}, {"sessionId": "x"}, {"sessionId": "x", "phoneNumber": "not-a-number"},
                 {"phoneNumber": "+254712345678", "text": ""}):
        response = client.post("/ussd", data=form)
        assert response.status_code == 400
        assert response.get_data(as_text=True).startswith("END ")


def test_events_callback_rejects_a_malformed_report(client):
    assert client.post("/ussd/events", data={"sessionId": "x"}).status_code == 400


def test_callback_token_is_enforced(config, at_api):
    app = create_app({**config, "CALLBACK_TOKEN": "s3cret-token"})
    client = app.test_client()
    form = {"sessionId": "s1", "serviceCode": "*384*2026#", "phoneNumber": "+254712345678",
            "networkCode": "63902", "text": ""}
    assert client.post("/ussd", data=form).status_code == 403
    assert client.post("/ussd?token=wrong", data=form).status_code == 403
    ok = client.post("/ussd?token=s3cret-token", data=form)
    assert ok.status_code == 200 and ok.get_data(as_text=True).startswith("CON ")
    assert client.post("/ussd/events", data={"sessionId": "s1"}).status_code == 403
    app.extensions["kazi"].redis.delete(SESSION_KEY.format("s1"))


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


def test_redis_down_gives_a_polite_end(config, at_api):
    app = create_app({**config, "REDIS_URL": "redis://127.0.0.1:1/0"})
    response = app.test_client().post("/ussd", data={
        "sessionId": "s2", "serviceCode": "*384*2026#", "phoneNumber": "+254712345678",
        "networkCode": "63902", "text": ""})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert body.startswith("END Sorry, Kazi Salama is busy.") and "Samahani" in body
    assert len(body) - 4 <= 160


def test_database_down_gives_a_polite_end(config, at_api, svc):
    app = create_app({**config, "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"})
    response = app.test_client().post("/ussd", data={
        "sessionId": "s3", "serviceCode": "*384*2026#", "phoneNumber": "+254712345678",
        "networkCode": "63902", "text": ""})
    assert response.status_code == 200
    assert response.get_data(as_text=True).startswith("END Sorry, Kazi Salama is busy.")


def test_health_endpoints(client):
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["checks"] == {"database": "ok", "redis": "ok"}
    metrics = client.get("/metrics").get_data(as_text=True)
    assert "kazi_up 1" in metrics and 'kazi_queue_length{queue="critical"}' in metrics


def test_readyz_reports_redis_down(config, at_api):
    app = create_app({**config, "REDIS_URL": "redis://127.0.0.1:1/0"})
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 503 and ready.json["checks"]["redis"] != "ok"


def test_a_star_in_a_list_answer_is_read_as_a_separator(phone, svc):
    p = phone()
    p.dial()
    play(p, SCREENS_BEFORE["destinations"][:-1] + ["3"])
    assert play(p, ["1*2"]).startswith("CON Confirm:")  # "1*2" means countries 1 and 2
    assert "(SA,AE)" in p.screen


def test_callback_fields_are_read_like_a_form_and_a_huge_body_is_refused(client):
    from urllib.parse import urlencode

    body = urlencode([("sessionId", "ATUid_form"), ("phoneNumber", "+254712345678"),
                      ("serviceCode", "*384*55#"), ("text", ""), ("text", "ignored"),
                      ("networkCode", "63902")])
    reply = client.post("/ussd", data=body,
                        content_type="application/x-www-form-urlencoded; charset=utf-8")
    assert reply.status_code == 200 and reply.get_data(as_text=True).startswith("CON ")
    multipart = client.post("/ussd", data={"sessionId": "ATUid_form2",
                                           "phoneNumber": "+254712345678", "text": ""},
                            content_type="multipart/form-data")
    assert multipart.status_code == 200 and multipart.get_data(as_text=True).startswith("CON ")
    huge = client.post("/ussd", data=body + "&pad=" + "x" * 70_000,
                       content_type="application/x-www-form-urlencoded")
    assert huge.status_code == 413
    assert huge.get_data(as_text=True).startswith("END Sorry, we could not read that request")
