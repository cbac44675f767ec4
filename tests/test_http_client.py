"""The HTTP client's per-request shortcuts send what httpx would: the URL joined as text, no
Set-Cookie kept, the first try outside tenacity, one TLS context made only for https, and that
context still verifying certificates."""

import asyncio
import ssl

import httpx
import pytest

from teamform.http import Client, RetryPolicy, open_client, tls

BASES = ["http://h:1/api/v2", "http://h:1", "https://h/scim/v2/", "http://127.0.0.1:5000/a%20b/",
         "https://user:pw@h/x", "http://[::1]:8080/v", "HTTP://H.example/API", "http://h/a?k=v", "", "http://h/é/"]
PATHS = ["/a", "/", "/users/42", "/a b/é", "/a/../b", "/./x", "/users:batch", "/a%2Fb", "/Groups/x y+z",
         "//evil/x", "a", "/a?x=1", "/a#f", "http://other/x", "/a%zz", "/a//b"]
PARAMS = [None, {}, {"x": ""}, {"q": "a b&c", "l": [1, 2]}, "x=1&y=2", [("x", "1"), ("x", "2")],
          {"n": None, "t": True, "f": 1.5}, httpx.QueryParams({"a": "1"}), "", {"filter": 'userName eq "a@b.c"'},
          {"é": "ü/?#"}]


def url_or_error(client: httpx.AsyncClient, path: str, params) -> str:
    try:
        return str(client.build_request("GET", path, params=params).url)
    except Exception as exc:  # the same refusal counts as the same answer
        return repr(exc)


def test_the_url_is_the_one_httpx_would_make():
    for base in BASES:
        for on_client in (None, {"c": "1"}):
            ours, theirs = Client(base_url=base, params=on_client), httpx.AsyncClient(base_url=base, params=on_client)
            for path in PATHS:
                for params in PARAMS:
                    assert url_or_error(ours, path, params) == url_or_error(theirs, path, params), (base, path, params)


async def test_a_cookie_a_service_sets_is_not_sent_back_and_one_given_is():
    seen: list[str | None] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("cookie"))
        return httpx.Response(200, headers={"Set-Cookie": "session=abc; Path=/"}, json={})

    async with open_client("http://svc.test", inner=httpx.MockTransport(handle)) as client:
        await client.get("/a")
        await client.get("/b")
        client.cookies = {"given": "1"}
        await client.get("/c")
    assert seen == [None, None, "given=1"]


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


async def test_a_client_that_only_speaks_http_makes_no_tls_context():
    tls.cache_clear()
    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    try:
        async with open_client(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}") as client:
            assert (await client.get("/a")).json() == {"ok": True}
    finally:
        server.close()
    assert tls.cache_info().currsize == 0


# a self-signed certificate for 127.0.0.1 (valid until 2126): trusted by no CA bundle
KEY = """-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgTu1rRZLnLT6bunpR
fmMvDWktbIVHyXAQ1WTL6XIa0A+hRANCAAQs7bDj24XKtFhUO2PzdoqHRJrHuwCR
z38vuPr5DNBSydKp3St69IoM///2FkeW7JqHSE5cAcrcv0tDB1wsreXX
-----END PRIVATE KEY-----
"""
CERT = """-----BEGIN CERTIFICATE-----
MIIBjzCCATagAwIBAgIUbXcuqz2req+LUs0/YsGL9jLHQlYwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJMTI3LjAuMC4xMCAXDTI2MTIwMjE1MDIyNFoYDzIxMjYxMTA4
MTUwMjI0WjAUMRIwEAYDVQQDDAkxMjcuMC4wLjEwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAAQs7bDj24XKtFhUO2PzdoqHRJrHuwCRz38vuPr5DNBSydKp3St69IoM
///2FkeW7JqHSE5cAcrcv0tDB1wsreXXo2QwYjAdBgNVHQ4EFgQU+4EHWREGtlKY
NEgJRPc6OZBhkyYwHwYDVR0jBBgwFoAU+4EHWREGtlKYNEgJRPc6OZBhkyYwDwYD
VR0TAQH/BAUwAwEB/zAPBgNVHREECDAGhwR/AAABMAoGCCqGSM49BAMCA0cAMEQC
IAq5js3KTppyO//j6FDbbtpXngAY1Hehlc9Jn1dCnSA6AiB1EjTqUW5i7x+8/4/w
J7chgi25vIsAGcBTkJLJ0s1JHw==
-----END CERTIFICATE-----
"""


async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        await reader.readuntil(b"\r\n\r\n")
        body = b'{"ok": true}'
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                     + str(len(body)).encode() + b"\r\n\r\n" + body)
        await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
        pass  # the client refused the certificate
    finally:
        writer.close()


@pytest.fixture
async def https_port(tmp_path):
    (tmp_path / "key.pem").write_text(KEY)
    (tmp_path / "cert.pem").write_text(CERT)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    server = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=context)
    yield server.sockets[0].getsockname()[1]
    server.close()


@pytest.fixture
def fresh_tls(monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    tls.cache_clear()
    yield monkeypatch
    tls.cache_clear()  # the next test makes its own, from the environment it has


async def test_https_refuses_a_certificate_no_ca_vouches_for(https_port, fresh_tls):
    async with open_client(f"https://127.0.0.1:{https_port}", retry=RetryPolicy(attempts=0)) as client:
        with pytest.raises(httpx.ConnectError, match="certificate verify failed"):
            await client.get("/a")


async def test_https_trusts_what_ssl_cert_file_names_through_one_context_for_every_client(https_port, fresh_tls, tmp_path):
    (tmp_path / "ca.pem").write_text(CERT)
    fresh_tls.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
    clients = [open_client(f"https://127.0.0.1:{https_port}") for _ in range(2)]
    for client in clients:
        async with client:
            assert (await client.get("/a")).json() == {"ok": True}
    contexts = {id(pool.ssl_context) for c in clients for pool in c._transport.inner.pools.values()}
    assert contexts == {id(tls())} and tls().verify_mode == ssl.CERT_REQUIRED and tls().check_hostname
