"""GET /llms.txt and /llms-full.txt: the site for language models (service/llms.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import MediaType, Request, get
from litestar.di import NamedDependency
from litestar.response import Stream

from principles.settings import Settings
from service.feature import Feature
from service.index import IndexView
from service.llms import llms_full, llms_txt

if TYPE_CHECKING:
    from service.services import Services


TAGS = ["llms"]


def llms_handlers(settings: Settings) -> list[Any]:
    """The two handlers, bound to the Settings that name the site."""

    @get("/llms.txt", operation_id="llmsTxt", tags=TAGS, media_type=MediaType.TEXT,
         summary="The site map for language models (llmstxt.org)",
         description="Markdown: site summary, then pages by concept and by category as links "
                     "with description and id, pages without either, and taxonomy pages under "
                     "`## Optional`.")
    async def llms(request: Request[Any, Any, Any], index: NamedDependency[IndexView]) -> str:
        return llms_txt(index, settings, str(request.base_url))

    @get("/llms-full.txt", operation_id="llmsFullTxt", tags=TAGS, media_type=MediaType.TEXT,
         summary="Every served page as Markdown in one file",
         description="The llms.txt header, then each page as Markdown with its facts in YAML "
                     "front matter (as `GET /v1/pages/{id}` with `Accept: text/markdown`).")
    async def llms_full_txt(request: Request[Any, Any, Any],
                            index: NamedDependency[IndexView]) -> Stream:
        return Stream(llms_full(index, settings, str(request.base_url)), media_type=MediaType.TEXT)

    return [llms, llms_full_txt]


def feature(services: Services) -> Feature:
    return Feature(llms_handlers(services.settings))
