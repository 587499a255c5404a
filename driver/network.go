package driver

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/volmount/volmount/mounter"
)

// Resolver turns a server's host name into an address mount(2) accepts.
// The kernel resolves no names itself.
type Resolver func(ctx context.Context, host string) (string, error)

// LookupHost is the Resolver volmount uses outside tests: the system's
// resolver, preferring an IPv4 address.
func LookupHost(ctx context.Context, host string) (string, error) {
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return "", err
	}
	for _, a := range addrs {
		if a.Unmap().Is4() {
			return a.Unmap().String(), nil
		}
	}
	return addrs[0].String(), nil
}

func isNFS(fsType string) bool  { return fsType == "nfs" || fsType == "nfs4" }
func isCIFS(fsType string) bool { return fsType == "cifs" || fsType == "smb3" }

// isNetwork reports whether a filesystem type is served by a remote host.
func isNetwork(fsType string) bool { return isNFS(fsType) || isCIFS(fsType) }

// uncHost returns the host of a UNC device, //host/share[/path], and
// whether the device has that form. Backslashes count as slashes.
func uncHost(device string) (string, bool) {
	device = strings.ReplaceAll(device, `\`, "/")
	rest, ok := strings.CutPrefix(device, "//")
	if !ok {
		return "", false
	}
	host, share, _ := strings.Cut(rest, "/")
	return host, host != "" && share != ""
}

// nfsHost returns the host of an NFS device, host:/export; it is empty for
// the :/export form, where o=addr= names the server.
func nfsHost(device string) string {
	if strings.HasPrefix(device, "[") {
		if end := strings.Index(device, "]:"); end > 0 {
			return device[1:end]
		}
	}
	host, _, _ := strings.Cut(device, ":")
	return host
}

// hasPort reports whether a host from a UNC carries a port: host:445 or
// [::1]:445. A bare IPv6 literal has colons but no port.
func hasPort(host string) bool {
	if strings.HasPrefix(host, "[") {
		return strings.Contains(host[strings.Index(host, "]")+1:], ":")
	}
	return strings.Count(host, ":") == 1
}

func isLiteral(host string) bool {
	_, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil
}

// checkNetwork applies the rules of network types at Create.
func (o options) checkNetwork() error {
	if !isCIFS(o.fsType) && o.credentials != "" {
		return errorf(ErrInvalid, "option %q is only for type cifs or smb3, not %q",
			optCredentials, o.fsType)
	}
	if !isNetwork(o.fsType) {
		return nil
	}
	if err := checkAddress(mounter.SplitOptions(o.o), addressKeys(o.fsType)); err != nil {
		return err
	}
	if !isCIFS(o.fsType) {
		return nil
	}
	host, ok := uncHost(o.device)
	switch {
	case !ok:
		return errorf(ErrInvalid, "option %q must be a UNC path //host/share for type %q, not %q",
			optDevice, o.fsType, o.device)
	case strings.HasPrefix(host, "["):
		return errorf(ErrInvalid, "option %q: the CIFS client reads no brackets in a UNC: "+
			"write an IPv6 address bare (//::1/share), or give it as o=addr=", optDevice)
	case hasPort(host):
		return errorf(ErrInvalid, "option %q: a port in the UNC (%s) is not allowed: "+
			"give it as o=port=N", optDevice, o.device)
	case o.credentials != "" && optionValue(mounter.SplitOptions(o.o), "password", "pass") != "":
		return errorf(ErrInvalid, "give the password either in option %q or in the %q file, not both",
			optO, optCredentials)
	}
	return nil
}

// addressKeys are the option keys that name the server: addr=, and for
// CIFS also ip=, its other name for the same thing.
func addressKeys(fsType string) []string {
	if isCIFS(fsType) {
		return []string{"addr", "ip"}
	}
	return []string{"addr"}
}

// checkAddress refuses an empty or repeated server address: the kernel
// takes the last one, so volmount could not resolve the one it uses.
func checkAddress(words []string, keys []string) error {
	seen := 0
	for _, word := range words {
		key, value, ok := strings.Cut(word, "=")
		if !ok || !slices.Contains(keys, key) {
			continue
		}
		if value == "" {
			return errorf(ErrInvalid, "option %q: %s= is empty: name the server, "+
				"or leave %s= out to use the device's host", optO, key, key)
		}
		if seen++; seen > 1 {
			return errorf(ErrInvalid, "option %q names the server more than once "+
				"(%s): give one", optO, strings.Join(keys, "= or ")+"=")
		}
	}
	return nil
}

// optionValue returns the value of the first option word with one of keys.
func optionValue(words []string, keys ...string) string {
	_, value := findOption(words, keys...)
	return value
}

// findOption finds the option word with one of keys. Keys match exactly,
// as the kernel matches them.
func findOption(words []string, keys ...string) (int, string) {
	for i, word := range words {
		key, value, ok := strings.Cut(word, "=")
		if ok && slices.Contains(keys, key) {
			return i, value
		}
	}
	return -1, ""
}

// networkData returns the filesystem data for a network mount: the
// server's name resolved to an address, once, whichever form named it, and
// the credentials file's contents. It runs at every Mount, so a server that
// moved is found.
func (d *Driver) networkData(ctx context.Context, o options, data string) (string, error) {
	words, err := d.withServer(ctx, o, mounter.SplitOptions(data))
	if err != nil {
		return "", err
	}
	if o.credentials != "" {
		creds, err := readCredentials(d.credentialsDir, o.credentials)
		if err != nil {
			return "", err
		}
		words = append(words, creds...)
	}
	return strings.Join(words, ","), nil
}

// withServer gives the option words the server's address: the one of
// addr= (ip= for CIFS) resolved if it is a name, else the device's host.
// The CIFS client reads an address in the UNC itself, so only a name
// there is resolved, into addr=; the NFS client takes the server only from
// addr=, so the device's host always goes there.
func (d *Driver) withServer(ctx context.Context, o options, words []string) ([]string, error) {
	i, host := findOption(words, addressKeys(o.fsType)...)
	from := "device"
	switch {
	case i >= 0:
		key, _, _ := strings.Cut(words[i], "=")
		from = "o=" + key
	case isCIFS(o.fsType):
		if unc, _ := uncHost(o.device); !isLiteral(unc) {
			host = unc
		}
	default:
		host = nfsHost(o.device)
	}
	if host == "" {
		return words, nil
	}
	addr := strings.Trim(host, "[]")
	if !isLiteral(host) {
		var err error
		if addr, err = d.resolve(ctx, host); err != nil {
			return nil, fmt.Errorf("resolve server %q (from %s): %w", host, from, err)
		}
	}
	if i < 0 {
		return append(words, "addr="+addr), nil
	}
	key, _, _ := strings.Cut(words[i], "=")
	words[i] = key + "=" + addr
	return words, nil
}
