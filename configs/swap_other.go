//go:build !linux

package configs

import "errors"

// errNoExchange means renameat2 and its flags are not available here.
var errNoExchange = errors.New("renameat2 flags not supported")

func exchange(a, b string) error               { return errNoExchange }
func renameat2NoReplace(old, new string) error { return errNoExchange }
