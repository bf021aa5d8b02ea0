package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/aifactory/aifactory/tools/factoryctl/internal/client"
	"github.com/aifactory/aifactory/tools/factoryctl/internal/output"
)

// streams are the standard streams a command reads and writes.
type streams struct {
	in       io.Reader
	out, err io.Writer
}

// app holds the global flags every command shares.
type app struct {
	env     client.Env
	addr    string
	token   string
	format  output.FormatValue
	timeout time.Duration
}

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// run executes factoryctl with args and returns the process exit code:
// 0 on success, 2 for usage errors, 1 for everything else.
func run(ctx context.Context, args []string, s streams, env client.Env) int {
	root := newRootCmd(env)
	root.SetArgs(args)
	root.SetIn(s.in)
	root.SetOut(s.out)
	root.SetErr(s.err)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	if isUsageError(err) {
		fmt.Fprintf(s.err, "Error: %v\nRun '%s --help' for usage.\n", err, cmd.CommandPath())
		return exitUsage
	}
	if errors.Is(err, errReported) {
		return exitError
	}
	output.WriteError(s.err, err)
	return exitError
}

func newRootCmd(env client.Env) *cobra.Command {
	a := &app{env: env, format: output.FormatValue{F: output.Table}}
	root := &cobra.Command{
		Use:   "factoryctl",
		Short: "Manage the aifactory mesh: catalog domains, data products and contracts",
		Long: `factoryctl talks to the aifactory services over gRPC.

By default it talks to the dev mesh on 127.0.0.1:7100 (start it with
'make run' or 'factoryctl dev') with the admin token the dev mesh writes to
$FACTORY_DATA_DIR/admin.token (./.factory/admin.token).`,
		Example: `  factoryctl dev
  factoryctl catalog domain create sales --owner alice
  factoryctl catalog contract apply -f orders.odcs.yaml
  factoryctl --addr catalog.example.internal:7100 --token "$TOKEN" catalog product list -o yaml`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          noArgs,
		RunE:          groupRunE,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErrorf("%v", err) })
	pf := root.PersistentFlags()
	pf.StringVar(&a.addr, "addr", client.DefaultAddress(env), "address of the mesh's gRPC endpoint (env "+client.AddrVar+")")
	pf.StringVar(&a.token, "token", "", "bearer token (default $"+client.TokenVar+", or for a loopback --addr the dev mesh's $"+client.DataDirVar+"/"+client.AdminTokenFile+")")
	pf.VarP(&a.format, "output", "o", "output format: table, json or yaml")
	pf.DurationVar(&a.timeout, "timeout", 10*time.Second, "timeout of each call")

	root.AddCommand(
		newCatalogCmd(a),
		newFeaturesCmd(a),
		newIngestCmd(a), newQuarantineCmd(a),
		newVersionCmd(),
		newDevCmd(),
		newTokenCmd(a),
	)
	return root
}

// dial resolves the token and connects to the mesh. The caller closes the
// connection.
func (a *app) dial() (*grpc.ClientConn, error) {
	token, err := client.ResolveToken(a.addr, a.token, a.env, os.ReadFile)
	if err != nil {
		return nil, err
	}
	return client.Dial(client.Options{Addr: a.addr, Token: token})
}

// callContext bounds one call by --timeout.
func (a *app) callContext(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	return context.WithTimeout(cmd.Context(), a.timeout)
}

// print writes msg in the -o format, using table for the table format.
func (a *app) print(cmd *cobra.Command, msg proto.Message, table func(io.Writer) error) error {
	return output.Print(cmd.OutOrStdout(), a.format.F, msg, table)
}

// usageError is a mistake in the command line; it exits with status 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// isUsageError reports usage errors, including those cobra makes itself.
func isUsageError(err error) bool {
	var ue *usageError
	if errors.As(err, &ue) {
		return true
	}
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "required flag", "if any flags in the group", "flag needs an argument", "invalid argument"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// errReported says the command already printed why it failed (e.g. an
// incompatible contract) and only the exit status 1 remains.
var errReported = errors.New("failure already reported")

// groupRunE runs a command that only groups subcommands: it shows the help,
// or rejects an unknown subcommand.
func groupRunE(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErrorf("unknown command %q for %q", args[0], cmd.CommandPath())
	}
	return cmd.Help()
}

// noArgs accepts any arguments so that groupRunE can name an unknown
// subcommand.
func noArgs(*cobra.Command, []string) error { return nil }

// exactArgs is cobra.ExactArgs with a usage error naming the arguments.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != len(names) {
			return usageErrorf("%s takes %d argument(s): %s; got %d", cmd.CommandPath(), len(names), strings.Join(names, " "), len(args))
		}
		return nil
	}
}
