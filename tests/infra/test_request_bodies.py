"""Request bodies through each lab host's proxy: a body over the limit (library_max_body_bytes,
1 MiB) never reaches web. Announced too large, the proxy answers 413 at once; sent without a
length, it is cut off at the limit. The three sign-in endpoints a stranger can reach without
an account are the ones tried, with 20 MB, and web's temporary folder holds no upload after."""

import io

import pytest
import requests

TWENTY_MB = 20 * 1024 * 1024
SIGN_IN = ["/api/v1/auth/token/", "/api/auth/login/", "/admin/login/"]


@pytest.mark.parametrize("path", SIGN_IN)
def test_a_20_mb_multipart_body_is_refused_with_413_and_json(base_url, path):
    response = requests.post(base_url + path, files={"f": ("big.bin", io.BytesIO(b"\0" * TWENTY_MB))}, timeout=60)
    assert response.status_code == 413, response.text[:300]
    assert response.json()["code"] == "body_too_large"


def test_a_20_mb_body_without_a_length_is_cut_off(base_url):
    def chunks():
        for _ in range(20):
            yield b"\0" * (1024 * 1024)
    try:
        response = requests.post(base_url + SIGN_IN[0], data=chunks(), headers={"Content-Type": "application/json"},
                                 timeout=60)
        assert response.status_code == 413, response.text[:300]
    except requests.ConnectionError:
        pass  # the proxy closed the connection once the limit was passed: refused as well


def test_a_small_body_still_signs_in_as_usual(base_url):
    response = requests.post(base_url + SIGN_IN[0], json={"username": "nobody", "password": "wrong-password"}, timeout=30)
    assert response.status_code == 400, response.text[:300]


def test_web_wrote_no_upload(host):
    with host.sudo():
        web = host.check_output("docker ps -q --filter label=com.docker.compose.service=web | head -n 1")
        spooled = host.check_output(f"docker exec {web} find /tmp -maxdepth 1 -type f -name '*.upload*'")
    assert spooled == ""
