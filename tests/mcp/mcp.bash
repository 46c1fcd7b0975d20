# What the MCP test files share: the software of tests/mcp/package.json,
# installed (once) by tests/mcp/install, and where the files find it and
# the programs under test. Loaded after ../helper.

setup_file() {
	MCP_BUILD=$(sh "$BATS_TEST_DIRNAME/install") || return 1
	export MCP_BUILD
}

# mcp_paths: REPO, PATH with the programs under test first, NM the npm
# modules.
# shellcheck disable=SC2034 # NM is for the files that load this one
mcp_paths() {
	REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	PATH="${LLM_TEST_BIN:-$REPO/bin}:$PATH"
	NM=$MCP_BUILD/node_modules
}
