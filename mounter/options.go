package mounter

import (
	"strings"

	"golang.org/x/sys/unix"
)

// flag is one mount(8) option word that maps to MS_* flags instead of
// filesystem data. clear means the word turns the bits off.
type flag struct {
	clear bool
	bits  uintptr
}

// flags is the table mount(8) and Docker's local driver (through
// moby/sys/mount) use, so that an "o" value means the same to volmount.
var flags = map[string]flag{
	"defaults":      {false, 0},
	"ro":            {false, unix.MS_RDONLY},
	"rw":            {true, unix.MS_RDONLY},
	"suid":          {true, unix.MS_NOSUID},
	"nosuid":        {false, unix.MS_NOSUID},
	"dev":           {true, unix.MS_NODEV},
	"nodev":         {false, unix.MS_NODEV},
	"exec":          {true, unix.MS_NOEXEC},
	"noexec":        {false, unix.MS_NOEXEC},
	"sync":          {false, unix.MS_SYNCHRONOUS},
	"async":         {true, unix.MS_SYNCHRONOUS},
	"dirsync":       {false, unix.MS_DIRSYNC},
	"remount":       {false, unix.MS_REMOUNT},
	"mand":          {false, unix.MS_MANDLOCK},
	"nomand":        {true, unix.MS_MANDLOCK},
	"atime":         {true, unix.MS_NOATIME},
	"noatime":       {false, unix.MS_NOATIME},
	"diratime":      {true, unix.MS_NODIRATIME},
	"nodiratime":    {false, unix.MS_NODIRATIME},
	"bind":          {false, unix.MS_BIND},
	"rbind":         {false, unix.MS_BIND | unix.MS_REC},
	"relatime":      {false, unix.MS_RELATIME},
	"norelatime":    {true, unix.MS_RELATIME},
	"strictatime":   {false, unix.MS_STRICTATIME},
	"nostrictatime": {true, unix.MS_STRICTATIME},
	"unbindable":    {false, unix.MS_UNBINDABLE},
	"runbindable":   {false, unix.MS_UNBINDABLE | unix.MS_REC},
	"private":       {false, unix.MS_PRIVATE},
	"rprivate":      {false, unix.MS_PRIVATE | unix.MS_REC},
	"shared":        {false, unix.MS_SHARED},
	"rshared":       {false, unix.MS_SHARED | unix.MS_REC},
	"slave":         {false, unix.MS_SLAVE},
	"rslave":        {false, unix.MS_SLAVE | unix.MS_REC},
}

// propagation are the flags mount(2) only accepts in a call of their own.
const propagation = unix.MS_SHARED | unix.MS_PRIVATE | unix.MS_SLAVE |
	unix.MS_UNBINDABLE

// ParseOptions splits a comma-separated option string the way mount(8)
// does: known words become MS_* flags, everything else is filesystem data,
// kept verbatim and in order.
func ParseOptions(opts string) (uintptr, string) {
	var bits uintptr
	var data []string
	for _, word := range SplitOptions(opts) {
		f, ok := flags[word]
		switch {
		case !ok:
			data = append(data, word)
		case f.clear:
			bits &^= f.bits
		default:
			bits |= f.bits
		}
	}
	return bits, strings.Join(data, ",")
}

// SplitOptions splits an option string on commas and drops empty words. A
// doubled comma after a password (password=a,,b) is the CIFS client's
// escape for a comma inside the password: it does not split, and stays
// doubled for the kernel to read.
func SplitOptions(opts string) []string {
	var words []string
	for opts != "" {
		word, rest, _ := strings.Cut(opts, ",")
		if key, _, ok := strings.Cut(word, "="); ok && isSecretKey(key) {
			for strings.HasPrefix(rest, ",") {
				next, after, _ := strings.Cut(rest[1:], ",")
				word += ",," + next
				rest = after
			}
		}
		if word != "" {
			words = append(words, word)
		}
		opts = rest
	}
	return words
}
