package main

import (
	"errors"
	"os/user"
	"testing"
)

// The first run as root creates the account and must then use it: the
// lookup after useradd once went to a shadowed error, and the bench
// reported the account it had just made as unknown.
func TestLookupOrCreateUsesTheNewAccount(t *testing.T) {
	made := false
	lookup := func(name string) (*user.User, error) {
		if !made {
			return nil, user.UnknownUserError(name)
		}
		return &user.User{Username: name, Uid: "999", Gid: "995"}, nil
	}
	create := func(string) ([]byte, error) { made = true; return nil, nil }
	u, err := lookupOrCreate("vbench", lookup, create)
	if err != nil || u == nil || u.Uid != "999" {
		t.Fatalf("lookupOrCreate = %v, %v; want the account made", u, err)
	}
	if _, err := lookupOrCreate("vbench", func(name string) (*user.User, error) { return nil, user.UnknownUserError(name) },
		func(string) ([]byte, error) { return []byte("useradd: no"), errors.New("exit status 1") }); err == nil {
		t.Fatal("a failed useradd was not reported")
	}
}
