package main

import (
	"flag"
	"fmt"
	"strings"
)

// pacePeriod makes notify --behind-pace's period current unless --period
// names one, and refuses any other: a pace exists only while a period
// runs.
func pacePeriod(fs *flag.FlagSet, period *string) error {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == "period" })
	if !set {
		*period = "current"
	}
	if !strings.EqualFold(strings.TrimSpace(*period), "current") {
		return usageError{fmt.Errorf("--behind-pace is for the current period (a pace exists only while a period runs), not --period %s", *period)}
	}
	return nil
}
