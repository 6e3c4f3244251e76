"""HMA's hashing routes (``/h``): hash a photo or video fetched by URL or uploaded; only the
hashes are answered, the bytes are dropped."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from iolaus.web.auth import hash_access
from iolaus.web.hma.params import UPLOAD_BODY, required
from iolaus.web.media import hash_url, uploaded
from iolaus.web.settings import Svc

router = APIRouter(prefix="/h", tags=["Hashing (HMA)"], dependencies=[Depends(hash_access)])


@router.get("/hash", summary="Fetch a photo or video by URL and hash it")
def hash_get(
    svc: Svc, url: str | None = None, content_type: str | None = None, types: str | None = None
) -> dict[str, str]:
    return hash_url(required(url, "url"), content_type, types, svc.settings)


@router.post("/hash", summary="Hash an uploaded photo or video", openapi_extra=UPLOAD_BODY)
async def hash_post(request: Request, svc: Svc, types: str | None = None) -> dict[str, str]:
    async with uploaded(request, svc.settings.max_file_size) as upload:
        return await run_in_threadpool(upload.hashes, types, svc.settings.max_file_size)
