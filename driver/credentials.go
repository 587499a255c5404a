package driver

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// credentialsPattern admits a file name in the credentials directory and
// nothing that could leave it.
var credentialsPattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

// credentialKeys maps the keys a credentials file may hold, in the format
// mount.cifs reads, to the CIFS mount option each becomes.
var credentialKeys = map[string]string{
	"username": "username", "user": "username",
	"password": "password", "pass": "password",
	"domain": "domain", "dom": "domain", "workgroup": "domain",
}

func validateCredentialsName(name string) error {
	if !credentialsPattern.MatchString(name) {
		return errorf(ErrInvalid, "option %q: %q is not a file name: use "+
			"[a-zA-Z0-9_.-], starting with a letter or digit", optCredentials, name)
	}
	return nil
}

// readCredentials reads the credentials file name from dir and returns
// the CIFS options it stands for, commas escaped as the kernel expects.
// Errors name the file and the line, never a value from it.
func readCredentials(dir, name string) ([]string, error) {
	path := filepath.Join(dir, name)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, errorf(ErrInvalid, "credentials %q: no such file in the credentials "+
			"directory (docker plugin set volmount credentials.source=/host/dir)", name)
	}
	if err != nil {
		return nil, fmt.Errorf("credentials %q: %w", name, err)
	}
	defer f.Close()
	var words []string
	scan := bufio.NewScanner(f)
	for line := 1; scan.Scan(); line++ {
		text := strings.TrimRight(scan.Text(), "\r")
		if strings.TrimSpace(text) == "" || strings.HasPrefix(strings.TrimSpace(text), "#") {
			continue
		}
		if line == 1 {
			text = strings.TrimPrefix(text, "\ufeff") // a byte order mark
		}
		key, value, hasValue := strings.Cut(text, "=")
		option, ok := credentialKeys[strings.ToLower(strings.TrimSpace(key))]
		if !ok || !hasValue {
			// Quote nothing from the line: it may be a password.
			return nil, errorf(ErrInvalid, "credentials %q line %d is not a "+
				"username=, password= or domain= line", name, line)
		}
		if option == "password" {
			// The CIFS client reads a doubled comma as a comma in a
			// password only.
			value = strings.ReplaceAll(value, ",", ",,")
		} else if strings.Contains(value, ",") {
			return nil, errorf(ErrInvalid, "credentials %q line %d: a %s cannot hold "+
				"a comma", name, line, option)
		}
		words = append(words, option+"="+value)
	}
	if err := scan.Err(); err != nil {
		return nil, fmt.Errorf("credentials %q: %w", name, err)
	}
	return words, nil
}
