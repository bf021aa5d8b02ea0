package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/aifactory/aifactory/libs/auth"
	"github.com/aifactory/aifactory/libs/service"
	"github.com/aifactory/aifactory/tools/factoryctl/internal/client"
	"github.com/aifactory/aifactory/tools/factoryctl/internal/devserver"
)

func newTokenCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "token",
		Short:   "Issue bearer tokens for principals of the mesh",
		Example: "  factoryctl token issue alice --ttl 8h",
		Args:    noArgs,
		RunE:    groupRunE,
	}
	cmd.AddCommand(newTokenIssueCmd(a))
	return cmd
}

func newTokenIssueCmd(a *app) *cobra.Command {
	var (
		domains, roles []string
		ttl            time.Duration
	)
	cmd := &cobra.Command{
		Use:   "issue NAME",
		Short: "Sign a token for a principal with the mesh's secret",
		Long: `issue signs an HS256 token for the principal NAME with the mesh's secret:
$FACTORY_AUTH_SECRET when set, otherwise the dev mesh's secret in
$FACTORY_DATA_DIR/auth.secret. --domain grants the token write access to a
domain's products (service accounts); people are usually made members of a
domain with 'catalog domain members' instead. --role admin makes a platform
admin.`,
		Example: `  factoryctl token issue alice --ttl 8h
  export FACTORY_TOKEN=$(factoryctl token issue ingest-bot --domain sales)`,
		Args: exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			secret, ok, err := auth.SecretFromEnv()
			if err != nil {
				return err
			}
			if !ok {
				path := filepath.Join(service.EnvOr(client.DataDirVar, devserver.DefaultDataDir), service.SecretFile)
				b, err := os.ReadFile(path)
				if err != nil {
					return fmt.Errorf("no signing secret: set %s, or start the dev mesh first so that %s exists (%v)", auth.SecretEnv, path, err)
				}
				if secret, err = auth.ParseSecret(string(b)); err != nil {
					return fmt.Errorf("%s: %w", path, err)
				}
			}
			signer, err := auth.NewSigner(secret)
			if err != nil {
				return err
			}
			tok, err := signer.Issue(auth.Principal{Name: args[0], Domains: domains, Roles: roles}, ttl)
			if err != nil {
				return usageErrorf("%v", err)
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), tok)
			return err
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&domains, "domain", nil, "domain the token may write to (repeatable)")
	f.StringSliceVar(&roles, "role", nil, "role, e.g. admin (repeatable)")
	f.DurationVar(&ttl, "ttl", 24*time.Hour, "lifetime; 0 never expires")
	return cmd
}
