package mounter

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"golang.org/x/sys/unix"
)

func TestParseOptions(t *testing.T) {
	tests := []struct {
		name  string
		opts  string
		flags uintptr
		data  string
	}{
		{"empty", "", 0, ""},
		{"data only, order kept", "size=100m,uid=1000,mode=0750", 0, "size=100m,uid=1000,mode=0750"},
		{"flags and data", "ro,noexec,size=1m,nosuid", unix.MS_RDONLY | unix.MS_NOEXEC | unix.MS_NOSUID, "size=1m"},
		{"later word clears earlier", "ro,rw,exec", 0, ""},
		{"bind", "bind", unix.MS_BIND, ""},
		{"rbind and propagation", "rbind,rshared", unix.MS_BIND | unix.MS_REC | unix.MS_SHARED, ""},
		{"nfs style", "addr=10.0.0.1,rw,nfsvers=4,async", 0, "addr=10.0.0.1,nfsvers=4"},
		{"empty words dropped", ",,size=1m,,", 0, "size=1m"},
		{"defaults", "defaults", 0, ""},
		{"escaped comma in password", "password=a,,b,ro", unix.MS_RDONLY, "password=a,,b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			flags, data := ParseOptions(tt.opts)
			assert.Equal(t, tt.flags, flags, "ParseOptions(%q) flags", tt.opts)
			assert.Equal(t, tt.data, data, "ParseOptions(%q) data", tt.opts)
		})
	}
}

func TestRedact(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"no secret", "addr=1.2.3.4,vers=4", "addr=1.2.3.4,vers=4"},
		{"password", "username=u,password=s3cret,vers=3.0", "username=u,password=********,vers=3.0"},
		{"pass alias", "user=u,pass=s3cret", "user=u,pass=********"},
		{"upper case key", "PASSWORD=s3cret", "PASSWORD=********"},
		{"escaped comma inside password", "password=ab,,cd,vers=3.0", "password=********,vers=3.0"},
		{"unescaped comma inside password", "password=ab,cd,vers=3.0", "password=********,vers=3.0"},
		{"unescaped comma, then an =", "username=u,password=p,w=RET,vers=3.0,ro",
			"username=u,password=********,vers=3.0,ro"},
		{"lab's comma password unescaped", `username=c,password=p,w=$% 'q' "d",,x,,vers=3.0`,
			"username=c,password=********,vers=3.0"},
		{"escaped commas at the end", "user=u,password=ab,,", "user=u,password=********"},
		{"password last", "username=u,password=x", "username=u,password=********"},
		{"passthrough word", "passive=1", "passive=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Redact(tt.in), "Redact(%q)", tt.in)
		})
	}
}

func TestErrorMasksAndExplains(t *testing.T) {
	err := &Error{Op: "mount", Source: "//srv/share", Target: "/mnt/volumes/v",
		FSType: "cifs", Data: Redact("username=u,password=hunter2"), Err: unix.ENODEV}
	msg := err.Error()
	assert.NotContains(t, msg, "hunter2")
	assert.Contains(t, msg, "//srv/share")
	assert.Contains(t, msg, `does not support filesystem type "cifs"`)
	assert.ErrorIs(t, err, unix.ENODEV)
}
