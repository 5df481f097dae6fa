// Package config reads crmkpi's YAML config file.
//
// Path picks the file (--config, else $CRMKPI_CONFIG, else crmkpi.yaml); Load
// reads it and Parse decodes one from a reader. The result has every default
// filled in, except KPI targets and weights, which the scoring package owns
// and which stay nil when the file does not set them. docs/config.md lists
// every key with its default; examples/crmkpi.yaml is a commented example.
//
// The file is decoded into a yaml.Node tree and walked by hand rather than
// unmarshalled into structs, for three reasons. ${VAR} and ${VAR:-default}
// are expanded in each scalar on its own, so a missing variable is reported
// at its line instead of quietly becoming "". Unknown keys are errors at
// their line, which yaml.v3's KnownFields cannot promise once a type has a
// custom unmarshaler. And every problem is collected, not just the first:
// Parse returns an ErrorList, sorted by line, of *Error values that print as
// "FILE:LINE: key: problem", so an admin fixes the whole file in one pass.
//
// Tokens, OAuth secrets, the Bitrix24 webhook URL and the warehouse DSN have
// type Secret, which prints, logs and marshals as "[REDACTED]"; a Config can
// be printed with %+v or dumped as YAML or JSON without revealing them. Error
// messages never quote a secret's value.
package config
