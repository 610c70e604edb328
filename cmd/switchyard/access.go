package main

import (
	"fmt"
	"log/slog"
	"net"
	"os"

	"github.com/switchyard-ml/switchyard/access"
	"github.com/switchyard-ml/switchyard/internal/regfile"
)

// The environment variables serve reads its tokens from besides --tokens:
// a flag's value shows in ps, a file's or a variable's does not.
const (
	// envTokens holds tokens in the form of a tokens file.
	envTokens = "SWITCHYARD_TOKENS"
	// envAdminToken holds one secret, which becomes the write token
	// "admin".
	envAdminToken = "SWITCHYARD_ADMIN_TOKEN"
)

// maxTokensBytes bounds a tokens file: thousands of tokens.
const maxTokensBytes = 1 << 20

// accessPolicy builds serve's access policy from the tokens of the file
// at path (when not empty), of $SWITCHYARD_TOKENS and of
// $SWITCHYARD_ADMIN_TOKEN, guarding the classes auth lists: writes when
// auth is empty. With no tokens at all it returns nil, which leaves every
// endpoint open, unless auth names classes to guard.
func accessPolicy(path, auth string) (*access.Policy, error) {
	var tokens []access.Token
	if path != "" {
		data, err := regfile.Read(path, regfile.Limit{Max: maxTokensBytes, Remedy: "a tokens file is a line a token"})
		if err != nil {
			return nil, fmt.Errorf("--tokens: %w", err)
		}
		if tokens, err = access.ParseTokens(data, path); err != nil {
			return nil, fmt.Errorf("--tokens: %w", err)
		}
	}
	if env := os.Getenv(envTokens); env != "" {
		more, err := access.ParseTokens([]byte(env), "$"+envTokens)
		if err != nil {
			return nil, err
		}
		tokens = append(tokens, more...)
	}
	if secret := os.Getenv(envAdminToken); secret != "" {
		t, err := access.NewToken("admin", access.Write, secret)
		if err != nil {
			return nil, fmt.Errorf("$%s: %w", envAdminToken, err)
		}
		tokens = append(tokens, t)
	}
	if len(tokens) == 0 && auth == "" {
		return nil, nil
	}
	guarded := []access.Class{access.Write}
	if auth != "" {
		var err error
		if guarded, err = access.ParseClasses(auth); err != nil {
			return nil, fmt.Errorf("--auth: %w", err)
		}
	}
	p, err := access.NewPolicy(tokens, guarded...)
	if err != nil {
		return nil, fmt.Errorf("access: %w (serve --tokens FILE or $%s)", err, envTokens)
	}
	return p, nil
}

// warnIfExposed logs a warning when the server listens beyond loopback
// with every endpoint open.
func warnIfExposed(log *slog.Logger, ln net.Listener, p *access.Policy) {
	addr, ok := ln.Addr().(*net.TCPAddr)
	if !ok || addr.IP.IsLoopback() || !p.Open() {
		return
	}
	log.Warn("listening beyond loopback with no token: anyone who reaches this address can publish, roll out and unload models; configure --tokens FILE or $"+envTokens,
		"addr", addr.String())
}
