package main

import (
	"flag"
	"strings"
)

// A setting of the ledger has an environment variable (LEDGER_STORE) and a
// flag named after it in lower case (-store), which overrides it. The
// environment variable's own name is accepted as a flag too (-LEDGER_STORE),
// as scripts written for earlier versions use it.

// flagName is the flag of an environment variable: LEDGER_STORE_CACHE_MB is
// -store-cache-mb.
func flagName(env string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(env, "LEDGER_")), "_", "-")
}

// envString registers the setting env as a string flag, its default the
// environment variable's value, else def.
func envString(fs *flag.FlagSet, p *string, env string, getenv func(string) string, def, usage string) {
	v := getenv(env)
	if v == "" {
		v = def
	}
	fs.StringVar(p, flagName(env), v, usage+" (environment: "+env+")")
	fs.Var(alias{p}, env, "the same as -"+flagName(env))
}

// alias is a second name of a string flag.
type alias struct{ p *string }

func (a alias) String() string {
	if a.p == nil {
		return ""
	}
	return *a.p
}

func (a alias) Set(s string) error { *a.p = s; return nil }
