package main

// allowLoopback lets team deployments reach the tests' fake upstreams,
// which listen on 127.0.0.1: loopback is denied to team-supplied
// api_base by default (package egress).
const allowLoopback = "  team_api_base_allow: [\"127.0.0.1\"]\n"
