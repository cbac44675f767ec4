"""The HTTP client's per-request shortcuts send what httpx would: the URL joined as text, no
Set-Cookie kept, the first try outside tenacity, one TLS context made only for https, and that
context still verifying certificates."""

import httpx

from teamform.http import RetryPolicy, open_client

async def test_a_read_answered_5xx_is_tried_the_policys_attempts_then_answered_with_the_last():
    sent: list[str] = []
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    def handle(request: httpx.Request) -> httpx.Response:
        sent.append(request.method)
        return httpx.Response(503, json={"try": len(sent)})

    policy = RetryPolicy(attempts=3, backoff=1.0, max_wait=60.0, sleep=sleep)
    async with open_client("http://svc.test", inner=httpx.MockTransport(handle), retry=policy) as client:
        response = await client.get("/a")
        assert (response.status_code, response.json()) == (503, {"try": 4}) and sent == ["GET"] * 4
        assert [int(s) for s in slept] == [1, 2, 4]  # backoff for retries 1, 2, 3 (plus jitter under 1 s)
        assert (await client.post("/a")).status_code == 503 and sent[-2:] == ["GET", "POST"]  # a write: once
