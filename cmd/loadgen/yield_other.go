//go:build !linux

package main

import "runtime"

func osYield() { runtime.Gosched() }
