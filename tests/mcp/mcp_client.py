"""Drives `cairn mcp` with the official MCP Python SDK's client over stdio, as Claude Desktop or
Cursor would, and prints what it saw as one JSON object (checked by crates/cairn-cli/tests/mcp.rs).

Usage: mcp_client.py CAIRN_BINARY DATA_DIR [--redact]
"""

import asyncio
import json
import os
import sys

from mcp import ClientSession, MCPError, StdioServerParameters, stdio_client
from mcp.types import Implementation

cairn, data = sys.argv[1], sys.argv[2]
extra = sys.argv[3:]


def text(result):
    return json.loads(result.content[0].text)


async def refused(session, tool, arguments):
    try:
        result = await session.call_tool(tool, arguments)
    except MCPError as e:
        return {"code": e.code, "message": e.message}
    return {"not_refused": result.model_dump(mode="json")}


async def main():
    params = StdioServerParameters(
        command=cairn, args=["--data-dir", data, "mcp", *extra], env=dict(os.environ)
    )
    seen = {}
    async with stdio_client(params) as (read, write):
        async with ClientSession(
            read,
            write,
            client_info=Implementation(name="cairn-test-client", version="1.0"),
        ) as session:
            init = await session.initialize()
            seen["server"] = init.server_info.name
            seen["tools"] = sorted(t.name for t in (await session.list_tools()).tools)
            seen["search"] = text(
                await session.call_tool("search", {"query": "Fresnel lens made", "k": 3})
            )
            seen["private_email"] = text(
                await session.call_tool("search", {"query": "invoice contact e-mail", "k": 3})
            )
            seen["collections"] = text(await session.call_tool("list_collections", {}))
            seen["document"] = text(
                await session.call_tool(
                    "get_document", {"path": "lighthouse-skerrow-point.md", "limit": 1}
                )
            )
            seen["unknown_tool"] = await refused(session, "delete_everything", {})
            seen["huge_k"] = await refused(session, "search", {"query": "tides", "k": 500})
            seen["wrong_type"] = await refused(session, "search", {"query": 5})
            seen["not_shared"] = await refused(
                session, "search", {"query": "tides", "collection": "private"}
            )
            seen["resources"] = [
                r.uri for r in (await session.list_resources()).resources
            ]
            read_back = await session.read_resource("cairn://collections/default")
            seen["resource"] = json.loads(read_back.contents[0].text)
            if "--redact" not in extra:
                seen["ask"] = text(
                    await session.call_tool(
                        "ask",
                        {"question": "When was the Fresnel lens of Skerrow Point lighthouse made?"},
                    )
                )
    print(json.dumps(seen))


asyncio.run(main())
