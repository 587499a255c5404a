package driver

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/volmount/volmount/mounter"
)

// Option keys. type, device and o are Docker's local driver's, with its
// rules: device and type need each other, o needs both. credentials names
// a file of CIFS credentials in the plugin's credentials directory.
const (
	optType        = "type"
	optDevice      = "device"
	optO           = "o"
	optCredentials = "credentials"
)

var knownOptions = []string{optCredentials, optDevice, optO, optType}

// options is a volume's parsed Create options.
type options struct {
	raw map[string]string // as the user gave them; nil for none

	fsType      string
	device      string
	o           string
	credentials string
}

// parseOptions checks a Create request's options and returns them parsed.
// Every error names the offending key and says what is allowed.
func parseOptions(raw map[string]string) (options, error) {
	if len(raw) == 0 {
		return options{}, nil
	}
	var unknown []string
	for key, value := range raw {
		if !slices.Contains(knownOptions, key) {
			unknown = append(unknown, fmt.Sprintf("%q", key))
			continue
		}
		if value == "" {
			return options{}, errorf(ErrInvalid, "option %q has an empty value",
				key)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return options{}, errorf(ErrInvalid, "unknown option %s: volmount accepts %s",
			strings.Join(unknown, ", "), quoteAll(knownOptions))
	}
	opts := options{raw: maps.Clone(raw), fsType: raw[optType],
		device: raw[optDevice], o: raw[optO], credentials: raw[optCredentials]}
	if err := opts.checkRequired(); err != nil {
		return options{}, err
	}
	if opts.credentials != "" {
		if err := validateCredentialsName(opts.credentials); err != nil {
			return options{}, err
		}
	}
	return opts, opts.checkNetwork()
}

// requiredOptions is the local driver's rule that type, device and o only
// make sense together: each key needs the keys listed with it.
var requiredOptions = []struct{ key, needs string }{
	{optO, optType}, {optO, optDevice}, {optType, optDevice}, {optDevice, optType},
	{optCredentials, optType},
}

func (o options) checkRequired() error {
	for _, rule := range requiredOptions {
		_, has := o.raw[rule.key]
		_, hasNeeded := o.raw[rule.needs]
		if has && !hasNeeded {
			return errorf(ErrInvalid, "option %q needs option %q",
				rule.key, rule.needs)
		}
	}
	return nil
}

// isDirectory reports whether the volume is a plain directory, with no
// backend of its own to mount.
func (o options) isDirectory() bool {
	return o.fsType == ""
}

// spec is the mount of the volume's backend on target.
func (o options) spec(target string) mounter.Spec {
	flags, data := mounter.ParseOptions(o.o)
	return mounter.Spec{Source: o.device, Target: target, FSType: o.fsType,
		Flags: flags, Data: data}
}

// redacted returns the options safe to show: any password in o masked.
func (o options) redacted() map[string]string {
	if len(o.raw) == 0 {
		return nil
	}
	out := maps.Clone(o.raw)
	if v, ok := out[optO]; ok {
		out[optO] = mounter.Redact(v)
	}
	return out
}

// differingKeys lists, sorted, the keys whose values differ between two
// sets of options, counting a missing key as different from any value.
func differingKeys(a, b map[string]string) []string {
	var keys []string
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			keys = append(keys, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

func quoteAll(words []string) string {
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = fmt.Sprintf("%q", w)
	}
	return strings.Join(quoted, ", ")
}
