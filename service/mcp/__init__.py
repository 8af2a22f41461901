"""The Model Context Protocol server: the graph's read-only answers as tools and resources
for AI assistants, over stdio (`principles mcp`) and streamable HTTP (/mcp in the app).

Every tool calls the service-layer function its HTTP endpoint calls, so limits, checks and
error messages are the API's own.
"""
