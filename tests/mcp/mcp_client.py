"""Drives `cairn mcp` with the official MCP Python SDK's client over stdio, as Claude Desktop or
Cursor would, and prints what it saw as one JSON object (checked by crates/cairn-cli/tests/mcp.rs).

Usage: mcp_client.py CAIRN_BINARY DATA_DIR [--redact] [--brief]
                                          (stdio: launches `CAIRN_BINARY --data-dir DATA_DIR mcp`;
                                           --brief: only the introduction)
       mcp_client.py URL TOKEN                          (Streamable HTTP: the local API's /mcp)
"""

import asyncio
import json
import os
import sys

from mcp import ClientSession, MCPError, StdioServerParameters, stdio_client
from mcp.types import Implementation

cairn, data = sys.argv[1], sys.argv[2]
extra = sys.argv[3:]
CLIENT = Implementation(name="cairn-test-client", version="1.0")


def text(result):
    return json.loads(result.content[0].text)


async def refused(session, tool, arguments):
    try:
        result = await session.call_tool(tool, arguments)
    except MCPError as e:
        return {"code": e.code, "message": e.message}
    return {"not_refused": result.model_dump(mode="json")}


async def exercise(session, seen, redact):
    init = await session.initialize()
    seen["server"] = init.server_info.name
    seen["tools"] = sorted(t.name for t in (await session.list_tools()).tools)
    seen["search"] = text(await session.call_tool("search", {"query": "Fresnel lens made", "k": 3}))
    seen["private_email"] = text(
        await session.call_tool("search", {"query": "invoice contact e-mail", "k": 3})
    )
    seen["collections"] = text(await session.call_tool("list_collections", {}))
    seen["document"] = text(
        await session.call_tool("get_document", {"path": "lighthouse-skerrow-point.md", "limit": 1})
    )
    seen["unknown_tool"] = await refused(session, "delete_everything", {})
    seen["huge_k"] = await refused(session, "search", {"query": "tides", "k": 500})
    seen["wrong_type"] = await refused(session, "search", {"query": 5})
    seen["not_shared"] = await refused(session, "search", {"query": "tides", "collection": "private"})
    seen["resources"] = [r.uri for r in (await session.list_resources()).resources]
    read_back = await session.read_resource("cairn://collections/default")
    seen["resource"] = json.loads(read_back.contents[0].text)
    if not redact:
        seen["ask"] = text(
            await session.call_tool(
                "ask", {"question": "When was the Fresnel lens of Skerrow Point lighthouse made?"}
            )
        )


async def introduce(session, seen):
    """Only the introduction: the server's name, its tools and the collections it shows."""
    init = await session.initialize()
    seen["server"] = init.server_info.name
    seen["tools"] = sorted(t.name for t in (await session.list_tools()).tools)
    seen["collections"] = text(await session.call_tool("list_collections", {}))


async def over_stdio(seen):
    brief = "--brief" in extra
    server_args = [a for a in extra if a != "--brief"]
    params = StdioServerParameters(
        command=cairn, args=["--data-dir", data, "mcp", *server_args], env=dict(os.environ)
    )
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write, client_info=CLIENT) as session:
            if brief:
                await introduce(session, seen)
            else:
                await exercise(session, seen, "--redact" in extra)


async def over_http(seen, url, token):
    """Streamable HTTP, as the local API serves it, with its token (and without: refused)."""
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    try:
        async with httpx2.AsyncClient(headers={"Authorization": "Bearer wrong"}) as http:
            async with streamable_http_client(url, http_client=http) as streams:
                async with ClientSession(streams[0], streams[1], client_info=CLIENT) as session:
                    await session.initialize()
        seen["wrong_token"] = "accepted"
    except BaseException as e:  # the refusal surfaces as an error or an exception group
        seen["wrong_token"] = "refused: " + type(e).__name__
    headers = {"Authorization": f"Bearer {token}"}

    async def connected(act):
        async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=300)) as http:
            async with streamable_http_client(url, http_client=http) as streams:
                async with ClientSession(streams[0], streams[1], client_info=CLIENT) as session:
                    return await act(session)

    await connected(lambda session: exercise(session, seen, False))

    # A client that goes away in the middle of an answer: its connection is dropped, and the
    # server goes on serving the next one.
    async def ask_and_wait(session):
        await session.initialize()
        question = {"question": "How is the lighthouse's light made, and who keeps it?"}
        return await session.call_tool("ask", question)

    call = asyncio.create_task(connected(ask_and_wait))
    await asyncio.sleep(0.7)
    seen["disconnected_mid_call"] = not call.done()
    call.cancel()
    try:
        await call
    except BaseException:
        pass

    async def list_after(session):
        await session.initialize()
        return text(await session.call_tool("list_collections", {}))

    seen["after_disconnect"] = await connected(list_after)


async def main():
    seen = {}
    if cairn.startswith("http"):
        await over_http(seen, cairn, data)
    else:
        await over_stdio(seen)
    print(json.dumps(seen))


asyncio.run(main())
