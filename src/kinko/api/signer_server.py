"""`kinko signer serve`: the online signer as its own small HTTP process.

One route, `POST /v1/sign`, taking an approval bundle and answering the signed
transaction or the refusal. Callers authenticate with the bearer secret in
``<data dir>/signer.token`` (created 0600 on first start). The checks are those of
`OnlineSigner`: a refusal is audited, freezes the wallet and raises a critical event.
"""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Request
from fastapi.responses import JSONResponse

from kinko.api.limits import RequestLimits
from kinko.core.errors import AuthenticationError, KinkoError
from kinko.core.secretfile import read_private
from kinko.signer.bundle import parse_bundle
from kinko.signer.online import OnlineSigner


def signer_token(path: Path) -> str:
    """The shared secret, created on first use with mode 0600."""
    if not path.exists():
        from kinko.core.secretfile import write_secret_file

        write_secret_file(path, secrets.token_urlsafe(32).encode())
    return read_private(path, field="signer.token").decode("ascii").strip()


# A bundle is JSON of a few kilobytes (a Bitcoin PSBT carries each input's previous
# transaction): far above any real one, far below what could exhaust memory.
MAX_BUNDLE_BYTES = 16 * 1024 * 1024


def create_signer_app(signer: OnlineSigner, token: str) -> FastAPI:
    app = FastAPI(title="Kinko signer", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(RequestLimits, max_body=MAX_BUNDLE_BYTES)  # 413 before reading

    @app.exception_handler(KinkoError)
    async def _error(_: Request, exc: KinkoError) -> JSONResponse:
        return JSONResponse(exc.to_dict(), status_code=exc.http_status)

    def caller(authorization: Annotated[str | None, Header()] = None) -> None:
        presented = (authorization or "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(presented.encode(), token.encode()):
            raise AuthenticationError("a valid signer bearer token is required")

    @app.post("/v1/sign", dependencies=[Depends(caller)])
    async def sign(request: Request) -> dict[str, Any]:
        bundle = parse_bundle(await request.body())
        signed = signer.sign(bundle)
        return {"withdrawal": bundle.withdrawal_id, "signed_tx": signed.hex()}

    return app
