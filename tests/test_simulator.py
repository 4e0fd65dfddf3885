"""The Share simulator itself: Share's rules, its HTTP shell and the trace generator."""

import itertools
import json
import statistics

import pytest
import requests

from share_simulator import Fault, Reading, ShareSimulator, ShareState, TraceProfile, generate_trace
from share_simulator.model import AUTHENTICATE, LOGIN_BY_ID, READ, ZERO_UUID, format_date
from share_simulator.trace import BIMODAL_DELAY_MIX, HEAVY_TAIL_DELAY_MIX, SLOW_DELAY_MIX, DelayMix

T0 = 1_795_000_000.0


class Clock:
    """A clock the tests set by hand."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def state(clock: Clock) -> ShareState:
    state = ShareState(clock=clock)
    state.add_account(
        username="Sharer",
        email="s@example.com",
        password="pw",
        account_id="11111111-2222-3333-4444-555555555555",
        readings=[
            Reading(time=T0 - 600, value=100),
            Reading(time=T0 - 300, value=110, available_at=T0 + 20),
            Reading(time=T0 - 900, value=39, trend="DoubleDown"),
        ],
    )
    return state


def post(
    state: ShareState, endpoint: str, body: object = None, **params: str
) -> tuple[int, object]:
    response = state.handle("us", endpoint, params, body or {})
    if response.content_type != "application/json" or not response.body:
        return response.status, response.body
    return response.status, json.loads(response.body)


def login_with(state: ShareState, password: str) -> str:
    status, account_id = post(
        state, AUTHENTICATE, {"accountName": "S@EXAMPLE.COM", "password": password}
    )
    assert status == 200
    status, session = post(state, LOGIN_BY_ID, {"accountId": account_id, "password": password})
    assert status == 200
    assert isinstance(session, str)
    return session


def login(state: ShareState) -> str:
    status, account_id = post(
        state, AUTHENTICATE, {"accountName": "S@EXAMPLE.COM", "password": "pw"}
    )
    assert status == 200
    status, session = post(state, LOGIN_BY_ID, {"accountId": account_id, "password": "pw"})
    assert status == 200
    assert isinstance(session, str)
    return session


def test_read_window_visibility_and_order(state: ShareState, clock: Clock) -> None:
    """Newest first, within minutes and maxCount, only once uploaded."""
    session = login(state)
    status, records = post(state, READ, sessionId=session, minutes="1440", maxCount="288")
    assert status == 200
    assert [record["Value"] for record in records] == [100, 39]
    clock.now += 20
    _, records = post(state, READ, sessionId=session, minutes="11", maxCount="1")
    assert [record["Value"] for record in records] == [110]
    assert records[0]["DT"] == format_date(int((T0 - 300) * 1000), -300, "modern")
    assert records[0]["DT"].endswith("-0500)")
    _, records = post(state, READ, {"sessionID": session, "minutes": 0, "maxCount": 5})
    assert records == []


def test_read_session_errors(state: ShareState, clock: Clock) -> None:
    """Zero, malformed, unknown and expired sessions answer as Share does."""
    assert state.handle("us", READ, {"sessionId": ZERO_UUID}, {}).body == b""
    assert post(state, READ, sessionId="bad-session-id")[0] == 400
    status, body = post(state, READ, sessionId="99999999-9999-9999-9999-999999999999")
    assert (status, body["Code"]) == (500, "SessionIdNotFound")
    session = login(state)
    assert post(state, READ, sessionId=session, minutes="x", maxCount="1")[0] == 400
    clock.now += 86401
    status, body = post(state, READ, sessionId=session, minutes="5", maxCount="1")
    assert (status, body["Code"]) == (500, "SessionNotValid")


def test_login_rules(state: ShareState, clock: Clock) -> None:
    """Zero and non-UUID IDs, wrong region, lockout that extends while attempted."""
    assert post(state, LOGIN_BY_ID, {"accountId": "", "password": "x"}) == (200, ZERO_UUID)
    status, body = post(state, LOGIN_BY_ID, {"accountId": 1, "password": "x"})
    assert (status, body["Code"]) == (500, "InvalidArgument")
    response = state.handle("ous", AUTHENTICATE, {}, {"accountName": "sharer", "password": "pw"})
    assert json.loads(response.body)["Code"] == "AccountPasswordInvalid"
    for _ in range(5):
        assert post(state, AUTHENTICATE, {"accountName": "sharer", "password": "no"})[0] == 500
    status, body = post(state, AUTHENTICATE, {"accountName": "sharer", "password": "pw"})
    assert body["Code"] == "SSO_AuthenticateMaxAttemptsExceeed"
    clock.now += 901
    assert post(state, AUTHENTICATE, {"accountName": "sharer", "password": "pw"})[0] == 200
    assert state.login_count() == 10
    assert state.request_count(READ) == 0


def test_faults_count_down(state: ShareState) -> None:
    """A fault applies the given number of times, to its endpoint only."""
    state.add_fault(Fault("empty", endpoint=AUTHENTICATE, times=2, status=503))
    state.add_fault(Fault("code", endpoint=LOGIN_BY_ID, times=None, status=429, retry_after="7"))
    body = {"accountName": "sharer", "password": "pw"}
    assert [state.handle("us", AUTHENTICATE, {}, body).status for _ in range(3)] == [503, 503, 200]
    response = state.handle("us", LOGIN_BY_ID, {}, {})
    assert (response.status, response.headers) == (429, {"Retry-After": "7"})
    state.clear_faults()
    assert state.faults == []


def test_record_formats(state: ShareState, clock: Clock) -> None:
    """Integer trends, wrapped dates, no offset and whole seconds."""
    session = login(state)
    state.record_format.trend_as_int = True
    state.record_format.date_style = "wrapped"
    state.record_format.whole_seconds = True
    _, records = post(state, READ, sessionId=session, minutes="30", maxCount="9")
    assert records[-1]["Trend"] == 7
    assert records[-1]["DT"].startswith("/Date(")
    assert records[-1]["DT"].endswith("-0500)/")
    assert format_date(1500, None, "no_offset") == "Date(1500)"
    assert format_date(1500, 60, "modern") == "Date(1500+0100)"


def test_http_round_trip(state: ShareState, socket_enabled: None) -> None:
    """The HTTP shell: regions in the path, POST only, connection refused and back."""
    with ShareSimulator(state) as simulator:
        url = simulator.base_url("us")
        response = requests.post(
            url + AUTHENTICATE, json={"accountName": "sharer", "password": "pw"}, timeout=5
        )
        assert response.json() == "11111111-2222-3333-4444-555555555555"
        assert response.headers["Content-Type"] == "application/json"
        assert requests.get(url + READ, timeout=5).status_code == 405
        assert requests.post(simulator.base_url("eu") + READ, timeout=5).status_code == 404
        response = requests.post(url + READ, data="not json", timeout=5)
        assert response.status_code == 400
        simulator.refuse_connections()
        with pytest.raises(requests.ConnectionError):
            requests.post(url + READ, timeout=5)
        simulator.accept_connections()
        assert simulator.base_url("us") == url
        assert requests.post(url + READ, json={}, timeout=5).status_code == 400
        control = f"http://127.0.0.1:{simulator.port}/_sim/"
        response = requests.post(
            control + "password", json={"account": "sharer", "password": "new"}, timeout=5
        )
        assert response.json()["requests"][AUTHENTICATE] == 1
        assert state.accounts["11111111-2222-3333-4444-555555555555"].password == "new"
        session = login_with(state, "new")
        assert requests.post(control + "expire_sessions", timeout=5).status_code == 200
        assert state.sessions[session].expired
        assert requests.post(control + "nothing", timeout=5).status_code == 404
    simulator.stop()


def test_trace_cadence_delays_and_signal_loss() -> None:
    """Five-minute cadence with drift, the delay mix, LOW/HIGH, and backfill at once."""
    profile = TraceProfile(signal_losses=((6 * 3600, 40 * 60),), gaps=((12 * 3600, 30 * 60),))
    trace = generate_trace(T0, T0 + 86400, profile, seed=7)
    spacing = [b.time - a.time for a, b in itertools.pairwise(trace)]
    assert 280 < len(trace) < 288
    assert statistics.median(spacing) == pytest.approx(299.8, abs=0.4)
    assert max(spacing) == pytest.approx(2100, abs=320)
    delays = [
        r.available_at - r.time for r in trace if not 6 * 3600 <= r.time - T0 < 6 * 3600 + 2400
    ]
    assert min(delays) >= 8
    assert max(delays) <= 300
    assert sum(8 <= d <= 35 for d in delays) / len(delays) > 0.8
    lost = [r for r in trace if 6 * 3600 <= r.time - T0 < 6 * 3600 + 2400]
    assert len(lost) == 8
    release = lost[0].available_at
    assert T0 + 6 * 3600 + 2400 + 5 <= release <= T0 + 6 * 3600 + 2400 + 20
    assert all(r.available_at == release for r in lost)
    assert all(39 <= r.value <= 401 for r in trace)
    assert generate_trace(T0, T0 + 3600, seed=7) == generate_trace(T0, T0 + 3600, seed=7)


@pytest.mark.parametrize(
    ("mix", "bands"),
    [
        (HEAVY_TAIL_DELAY_MIX, [(8, 35, 0.80), (35, 120, 0.15), (120, 300, 0.05)]),
        (SLOW_DELAY_MIX, [(55, 75, 1.0)]),
        (BIMODAL_DELAY_MIX, [(10, 20, 0.5), (90, 150, 0.5)]),
    ],
)
def test_trace_delay_mixes(mix: DelayMix, bands: list[tuple[float, float, float]]) -> None:
    """Each profile's delays fall in its bands, in about its shares."""
    trace = generate_trace(T0, T0 + 3 * 86400, TraceProfile(delay_mix=mix), seed=3)
    delays = [r.available_at - r.time for r in trace]
    for low, high, share in bands:
        inside = sum(low <= d <= high for d in delays) / len(delays)
        assert inside == pytest.approx(share, abs=0.03)
    assert sum(share for _, _, share in bands) == pytest.approx(1.0)


def test_trace_delay_change_halfway() -> None:
    """A phone that turns slow halfway: its delays follow the later mix from then on."""
    profile = TraceProfile(delay_changes=((43200.0, SLOW_DELAY_MIX),))
    trace = generate_trace(T0, T0 + 86400, profile, seed=5)
    before = [r.available_at - r.time for r in trace if r.time - T0 < 43200]
    after = [r.available_at - r.time for r in trace if r.time - T0 >= 43200]
    assert all(55 <= d <= 75 for d in after)
    assert sum(d < 35 for d in before) / len(before) > 0.8
    # Readings before the change are the same as without it.
    plain = generate_trace(T0, T0 + 86400, seed=5)
    assert [r for r in trace if r.time - T0 < 43200] == [r for r in plain if r.time - T0 < 43200]


def newest_served(state: ShareState, username: str) -> tuple[float, int]:
    """Log in as `username` through Share's rules; the newest reading's time and the count."""
    status, account_id = post(state, AUTHENTICATE, {"accountName": username, "password": "pw"})
    assert status == 200
    _, session = post(state, LOGIN_BY_ID, {"accountId": account_id, "password": "pw"})
    _, records = post(state, READ, sessionId=str(session), minutes="1440", maxCount="288")
    assert isinstance(records, list)
    newest = int(records[0]["WT"].removeprefix("Date(").removesuffix(")")) / 1000
    return newest, len(records)


def test_control_adds_a_sharer_whose_sensor_stopped(
    state: ShareState, clock: Clock, socket_enabled: None
) -> None:
    """The newest reading is exactly as old as asked, and nothing follows it."""
    with ShareSimulator(state) as simulator:
        response = requests.post(
            f"http://127.0.0.1:{simulator.port}/_sim/add_account",
            json={
                "username": "Sam@example.com",
                "password": "pw",
                "sensor_stopped_minutes_ago": 13,
            },
            timeout=5,
        )
    answer = response.json()
    assert response.status_code == 200
    assert answer["newest_reading"] == pytest.approx(T0 - 13 * 60, abs=0.002)
    assert state.accounts[answer["account_id"]].aliases == {"sam@example.com"}
    newest, count = newest_served(state, "sam@example.com")
    assert newest == pytest.approx(T0 - 13 * 60, abs=0.002)
    assert count == len(
        [r for r in state.accounts[answer["account_id"]].readings if r.time > T0 - 86400]
    )
    times = [r.time for r in state.accounts[answer["account_id"]].readings]
    assert {round(a - b, 2) for a, b in itertools.pairwise(times)} == {300.0}
    assert times[0] - times[-1] == pytest.approx(86400, abs=0.01)
    clock.now += 3600
    assert newest_served(state, "sam@example.com")[0] == newest


def test_control_adds_a_live_sharer(state: ShareState, clock: Clock, socket_enabled: None) -> None:
    """Without a stop, readings keep arriving every five minutes."""
    with ShareSimulator(state) as simulator:
        response = requests.post(
            f"http://127.0.0.1:{simulator.port}/_sim/add_account",
            json={"username": "kim", "password": "pw", "seed": 5},
            timeout=5,
        )
    assert response.status_code == 200
    newest, _ = newest_served(state, "kim")
    assert T0 - 5 * 60 - 300 < newest <= T0
    clock.now += 30 * 60
    later, _ = newest_served(state, "kim")
    assert later - newest == pytest.approx(30 * 60, abs=320)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"username": "sharer", "password": "pw"},
        {"username": "sam", "sensor_stopped_minutes_ago": -1},
        {"username": "sam", "sensor_stopped_minutes_ago": 1436},
        {"username": "sam", "sensor_stopped_minutes_ago": True},
        {"username": "sam", "seed": "1"},
    ],
)
def test_control_refuses_a_bad_account(
    state: ShareState, body: dict[str, object], socket_enabled: None
) -> None:
    """No name, a name already taken, an impossible stop or seed: nothing is added."""
    with ShareSimulator(state) as simulator:
        response = requests.post(
            f"http://127.0.0.1:{simulator.port}/_sim/add_account", json=body, timeout=5
        )
    assert response.status_code == 400
    assert len(state.accounts) == 1
