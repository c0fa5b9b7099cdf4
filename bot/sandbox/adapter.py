"""A requests transport adapter that answers from a JiraSandbox instead of the network."""

from __future__ import annotations

import io
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

if TYPE_CHECKING:
    from bot.sandbox.site import JiraSandbox


class SandboxAdapter(BaseAdapter):
    """A requests transport adapter that answers from a JiraSandbox instead of the network."""

    def __init__(self, sandbox: JiraSandbox) -> None:
        super().__init__()
        self.sandbox = sandbox

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        """Hand the prepared request to the sandbox and wrap its answer."""
        body = request.body.encode() if isinstance(request.body, str) else request.body
        answer = self.sandbox.handle(
            request.method or "GET", request.url or "", dict(request.headers), body
        )
        response = requests.Response()
        response.status_code = answer.status
        response.headers = CaseInsensitiveDict(answer.headers)
        response._content = answer.body
        response.raw = io.BytesIO(answer.body)
        response.url = request.url or ""
        response.request = request
        response.reason = _reason(answer.status)
        response.encoding = get_encoding_from_headers(response.headers)
        return response

    def close(self) -> None:
        """Nothing to release."""


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
