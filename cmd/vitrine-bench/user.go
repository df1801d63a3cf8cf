package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"syscall"
)

// benchUser runs the compositors that refuse root (wlroots) when the
// bench itself runs as root.
const benchUser = "vbench"

// identity is who a compositor runs as: nil cred means the bench's own user.
type identity struct {
	cred *syscall.Credential
	name string
}

func (id identity) chown(path string) error {
	if id.cred == nil {
		return nil
	}
	if err := os.Chown(path, int(id.cred.Uid), int(id.cred.Gid)); err != nil {
		return fmt.Errorf("give %s to user %s: %w", path, id.name, err)
	}
	return nil
}

// unprivilegedIdentity returns the identity for compositors that refuse
// root: the bench's own user when it is not root, else the benchUser
// account, created (system account, no home, no login) if missing.
func unprivilegedIdentity(log *slog.Logger) (identity, error) {
	if os.Geteuid() != 0 {
		return identity{}, nil
	}
	u, err := lookupOrCreate(benchUser, user.Lookup, func(name string) ([]byte, error) {
		log.Info("creating user for compositors that refuse root", "user", name)
		return exec.Command("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name).CombinedOutput()
	})
	if err != nil {
		return identity{}, err
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return identity{}, fmt.Errorf("user %s: uid %q: %w", benchUser, u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return identity{}, fmt.Errorf("user %s: gid %q: %w", benchUser, u.Gid, err)
	}
	return identity{
		cred: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}},
		name: benchUser,
	}, nil
}

// lookupOrCreate finds the account name, creating it with create when
// it does not exist.
func lookupOrCreate(name string, lookup func(string) (*user.User, error), create func(string) ([]byte, error)) (*user.User, error) {
	u, err := lookup(name)
	var unknown user.UnknownUserError
	if errors.As(err, &unknown) {
		if out, cerr := create(name); cerr != nil {
			return nil, fmt.Errorf("useradd %s (wlroots refuses to run as root): %w: %s", name, cerr, out)
		}
		u, err = lookup(name)
	}
	if err != nil {
		return nil, fmt.Errorf("look up user %s: %w", name, err)
	}
	return u, nil
}
