//! Command-line surface (clap). Raw arguments only: turning them into
//! resolved, validated settings happens in `settings.rs`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "ahi-edge",
    version,
    about = "Provision, report on and tear down a CloudFront edge stack for AWS HealthImaging",
    long_about = "Provision, report on and tear down a CloudFront edge stack for AWS HealthImaging \
                  (CloudFront + Lambda@Edge JWT authorizer + ALB/ECS Fargate regional proxy) \
                  by calling AWS APIs directly. State lives in a local lockfile.",
    after_help = "Exit codes: 0 done, 1 failed, 2 bad input (profile/flags/lockfile), \
                  3 done except what must wait, 4 drift found, 5 state held (or changed) by another run, \
                  130 interrupted (Ctrl-C; run the same command again to resume)."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// The stack profile (TOML)
    #[arg(long, global = true, value_name = "FILE", default_value = "ahi-edge.toml")]
    pub profile: PathBuf,

    /// The lockfile [default: the profile's path with the extension .lock]
    #[arg(long, global = true, value_name = "FILE")]
    pub lockfile: Option<PathBuf>,

    /// Keep the state in S3 at this object (overrides the profile's [state]), e.g. s3://team-state/ahi-edge/prod.lock
    #[arg(
        long,
        global = true,
        value_name = "s3://BUCKET/KEY",
        conflicts_with = "lockfile"
    )]
    pub state: Option<String>,

    /// The region of the --state bucket [default: the profile's [state] region, else its stack region]
    #[arg(long, global = true, value_name = "REGION")]
    pub state_region: Option<String>,

    /// Print one JSON document on stdout instead of text
    #[arg(long, global = true)]
    pub json: bool,

    /// Answer yes to every confirmation prompt
    #[arg(long, global = true)]
    pub yes: bool,

    /// One line per AWS call on stderr (-vv: the SDK's debug log too)
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,

    /// Only errors and warnings on stderr
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// No live progress bars; one plain line per state change instead
    #[arg(long, global = true)]
    pub no_progress: bool,

    /// Send every AWS call to this endpoint (e.g. the local emulator); the pre-flight's HTTPS
    /// reads (an OIDC issuer, an image config) go there too, with their Host header kept
    #[arg(long, global = true, value_name = "URL", env = "AWS_ENDPOINT_URL")]
    pub endpoint_url: Option<String>,

    /// Named profile from the shared AWS config/credentials files
    #[arg(long, global = true, value_name = "NAME")]
    pub aws_profile: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a commented profile from a template
    #[command(after_help = "Examples:\n  ahi-edge init --template ahi-delivery\n  \
        ahi-edge init --template ahi-delivery-https --stack-name imaging-prod --profile prod.toml\n\n\
        Exit codes: 0 written, 2 bad input (the file exists without --force, a bad stack name)")]
    Init(InitArgs),
    /// Check a profile offline and list every problem
    #[command(after_help = "Examples:\n  ahi-edge validate --profile prod.toml\n  \
        ahi-edge validate --profile prod.toml --json\n\n\
        Exit codes: 0 valid (warnings allowed), 2 problems found (each with file:line:col, key, value and fix)")]
    Validate,
    /// Build a deployable artifact exactly as `up` would deploy it
    #[command(
        after_help = "Example:\n  ahi-edge package authorizer --profile prod.toml --out authorizer.zip\n\n\
        Exit codes: 0 written, 1 failed (I/O), 2 bad input"
    )]
    Package(PackageArgs),
    /// What `up` would create, update, replace or delete (exit 4 if anything)
    #[command(after_help = "Examples:\n  ahi-edge plan --profile prod.toml\n  \
        ahi-edge plan --profile prod.toml --json   # schema: docs/status.md\n\n\
        Exit codes: 0 nothing to change, 4 changes to make, 1 failed (AWS), \
        2 bad input (profile, a certificate that is missing, not ISSUED or not covering the names, \
        a change the stack cannot make in place)")]
    Plan,
    /// Create or update the whole stack; resumable
    #[command(after_help = "Examples:\n  ahi-edge up --profile prod.toml\n  \
        ahi-edge up --profile prod.toml --json     # each resource created/updated/unchanged/failed\n  \
        ahi-edge up --profile prod.toml --no-wait  # return before CloudFront deploys; `status` exits 3 until it has\n\n\
        Exit codes: 0 up, 1 failed (run again: it resumes from the lockfile), 2 bad input \
        (nothing changed), 5 the state is held by another run (lockfile or S3 lock) or was changed under this one, 130 interrupted (run again to resume)")]
    Up(UpArgs),
    /// Live state of every resource in the lockfile, with a headline state
    #[command(after_help = "Examples:\n  ahi-edge status --profile prod.toml\n  \
        ahi-edge status --lockfile prod.lock --json   # works without the profile\n\n\
        Exit codes: 0 healthy, 3 deploying or awaiting replicas, 4 degraded or not deployed, 1 failed (AWS)")]
    Status,
    /// The URL, distribution id, ALB DNS name and DNS records to create
    #[command(
        after_help = "Example:\n  url=$(ahi-edge outputs --profile prod.toml --json | jq -r .url)\n\n\
        Exit codes: 0 deployed, 4 nothing deployed (the URL is null), 2 bad input"
    )]
    Outputs,
    /// Tear the stack down in reverse dependency order; resumable
    #[command(after_help = "Examples:\n  ahi-edge down --profile prod.toml --yes\n  \
        ahi-edge down --profile prod.toml --wait-replicas --timeout 3h --yes --purge-logs\n\n\
        Exit codes: 0 gone, 3 only Lambda@Edge replicas left (run with --wait-replicas to finish), \
        1 failed (run again to resume), 2 bad input or no --yes off a terminal, 5 the state is held by another run or was changed under this one, 130 interrupted")]
    Down(DownArgs),
    /// Print the least-privilege IAM policy a deployer needs for this profile
    #[command(
        after_help = "Examples:\n  ahi-edge iam-policy --profile prod.toml > deployer-policy.json\n  \
        ahi-edge iam-policy --profile prod.toml --split > deployer-policies.json   # each under IAM's 6,144-character limit\n  \
        ahi-edge iam-policy --profile prod.toml --boundary > boundary.json         # for an administrator, once per stack\n\n\
        Exit codes: 0 printed, 2 bad input"
    )]
    IamPolicy(IamPolicyArgs),
    /// The route table, offline: where a request goes and what the origin receives
    #[command(after_help = "Examples:\n  ahi-edge routes show --profile site.toml\n  \
        ahi-edge routes test \"GET /api/users?x=1\" /dashboard/42 --profile site.toml\n  \
        ahi-edge routes test --profile site.toml   # the profile's [[route_tests]]\n\n\
        Exit codes: 0 evaluated, 2 bad input (profile, a request that is not \"METHOD /path\", \
        a [[route_tests]] expectation that fails)")]
    Routes(RoutesArgs),
    /// The stack's state: show it, move it between the lockfile and S3, remove a stuck S3 lock
    #[command(
        after_help = "Examples:\n  ahi-edge state show --profile prod.toml --json\n  \
        ahi-edge state push --to s3://team-state/ahi-edge/prod.lock --profile prod.toml\n  \
        ahi-edge state pull --to prod-copy.lock --profile prod.toml\n  \
        ahi-edge state unlock L-0123456789abcdef --profile prod.toml\n\n\
        Where the state lives: the profile's [state] (backend = \"s3\"), or --state s3://BUCKET/KEY, else the lockfile.\n\
        Exit codes: 0 done, 1 failed (AWS, I/O), 2 bad input (nothing changed), 5 the state is locked by another run"
    )]
    State(StateArgs),
    /// Sign a URL (or make signed cookies) for a route with `signed = "<signer>"`
    #[command(after_help = "Examples:\n  \
        ahi-edge sign https://d111.cloudfront.net/storage/q3.pdf --signer storage --private-key-file storage-2026.pem\n  \
        ahi-edge sign 'https://d111.cloudfront.net/storage/*' --signer storage --private-key-file k.pem \\\n      \
        --policy --ip-range 192.0.2.0/24 --expires 12h --cookies --json\n\n\
        The Key-Pair-Id comes from the lockfile (the key's CloudFront id); the private key is read, used and never printed.\n\
        Exit codes: 0 signed, 2 bad input (unknown signer or key, a key not deployed yet, an unreadable private key)")]
    Sign(SignArgs),
    /// Invalidate cached objects in the stack's distribution (one CreateInvalidation)
    #[command(after_help = "Examples:\n  \
        ahi-edge invalidate /index.html                 # a new build of the single-page app\n  \
        ahi-edge invalidate --route '/api/*' --route 5   # every object of two routes (path or number in `routes show`)\n  \
        ahi-edge invalidate '/*' --no-wait --json\n\n\
        Paths start with /, may end in * (nowhere else), and are checked before any call: at most 3000 \
        paths and 15 ending in * per distribution in progress.\n\
        Exit codes: 0 completed (or created, with --no-wait), 1 failed (AWS), \
        2 bad input (a path CloudFront refuses, nothing deployed, too many invalidations in progress)")]
    Invalidate(InvalidateArgs),
    /// Rotate the origin header secret with no downtime; resumable
    #[command(after_help = "Examples:\n  \
        ahi-edge rotate-origin-secret --profile prod.toml\n  \
        ahi-edge rotate-origin-secret --profile prod.toml --json\n\n\
        A new version in Secrets Manager; the ALB rule, then the proxy (a service roll), accept the old and the new value; \
        the distribution sends the new one (waited for Deployed); the rule, then the proxy (a second roll), accept only the new one; \
        the old version is retired. Each phase is recorded in the lockfile: a run killed at any point resumes where it stopped, \
        `status` shows the phase, and `up` refuses until the rotation is finished. The value is never printed or recorded.\n\
        Exit codes: 0 rotated, 1 failed (run again: it resumes), 2 bad input (no HealthImaging stack deployed), \
        5 the state is held by another run, 130 interrupted (run again to resume)")]
    RotateOriginSecret,
    /// Print a shell completion script for ahi-edge
    #[command(after_help = "Examples:\n  \
        ahi-edge completions bash > ~/.local/share/bash-completion/completions/ahi-edge\n  \
        ahi-edge completions zsh > \"${fpath[1]}/_ahi-edge\"\n  \
        ahi-edge completions fish > ~/.config/fish/completions/ahi-edge.fish\n\n\
        Exit codes: 0 printed, 2 bad input (an unknown shell)")]
    Completions {
        /// The shell to complete in
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Write man pages (roff) for ahi-edge and each subcommand
    #[command(after_help = "Examples:\n  \
        ahi-edge man | man -l -                            # read the main page now\n  \
        ahi-edge man --out ~/.local/share/man/man1         # every page, for `man ahi-edge-up`\n\n\
        Exit codes: 0 written, 1 failed (I/O)")]
    Man {
        /// Write ahi-edge.1 and one page per subcommand (ahi-edge-up.1, ...) into this directory
        /// [default: print ahi-edge.1 on stdout]
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct StateArgs {
    #[command(subcommand)]
    pub action: StateAction,
}

#[derive(Debug, Subcommand)]
pub enum StateAction {
    /// The recorded resources, where the state lives and who holds its lock
    Show,
    /// Copy the S3 state to a local file (to inspect it, or to leave S3)
    Pull {
        /// The file to write (mode 0600)
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
        /// Overwrite the file if it exists
        #[arg(long)]
        force: bool,
    },
    /// Copy the local lockfile to S3, for a team and its CI to share
    Push {
        /// The state object to create
        #[arg(long, value_name = "s3://BUCKET/KEY")]
        to: String,
        /// Replace a state object that already exists (of the same stack)
        #[arg(long)]
        force: bool,
    },
    /// Remove the S3 lock a run left behind (it died, its machine is gone), after showing who held it
    Unlock {
        /// The lock id, as the exit-5 message or `state show` prints it
        #[arg(value_name = "LOCK-ID")]
        lock_id: String,
    },
}

#[derive(Debug, Args)]
pub struct SignArgs {
    /// The URL to sign (with --policy, a `*` pattern allowed)
    pub url: String,
    /// The signer, as named in the profile's [signers.NAME]
    #[arg(long, value_name = "NAME")]
    pub signer: String,
    /// The key's id in the profile [default: the signer's last key]
    #[arg(long, value_name = "ID")]
    pub key: Option<String>,
    /// The private key (PEM, PKCS#8 or PKCS#1) whose public half is that key
    #[arg(long, value_name = "FILE")]
    pub private_key_file: PathBuf,
    /// How long the signature is valid, e.g. 15m, 1h, 7d
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = humantime::parse_duration)]
    pub expires: std::time::Duration,
    /// A custom policy (needed for --ip-range, --not-before and `*` in the URL)
    #[arg(long)]
    pub policy: bool,
    /// Custom policy: only viewers from this IPv4 or IPv6 range (CIDR)
    #[arg(long, value_name = "CIDR", requires = "policy")]
    pub ip_range: Option<String>,
    /// Custom policy: not valid before this long from now, e.g. 10m
    #[arg(long, value_name = "DURATION", requires = "policy", value_parser = humantime::parse_duration)]
    pub not_before: Option<std::time::Duration>,
    /// Print the three signed-cookie values instead of a URL
    #[arg(long)]
    pub cookies: bool,
}

#[derive(Debug, Args)]
pub struct IamPolicyArgs {
    /// Print the policy as a JSON array of documents, each small enough for one
    /// IAM managed policy (6,144 characters without whitespace)
    #[arg(long, conflicts_with = "boundary")]
    pub split: bool,
    /// Print the permissions boundary every role of the stack carries, for an
    /// administrator to create once as policy ahi-edge/<stack>-boundary
    #[arg(long)]
    pub boundary: bool,
}

#[derive(Debug, Args)]
pub struct RoutesArgs {
    #[command(subcommand)]
    pub action: RoutesAction,
}

#[derive(Debug, Subcommand)]
pub enum RoutesAction {
    /// The routes in CloudFront's evaluation order
    Show,
    /// Which route, origin and origin URI each request gets (default: the profile's [[route_tests]])
    Test {
        /// Requests such as "GET /api/users?x=1" or "/dashboard/42" (GET)
        #[arg(value_name = "REQUEST")]
        requests: Vec<String>,
    },
}

#[derive(Debug, Args)]
pub struct InvalidateArgs {
    /// Paths to invalidate, e.g. /index.html or /images/*
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,
    /// Every object a route serves: its path as in the profile (e.g. /api/*) or its number
    #[arg(long = "route", value_name = "ROUTE")]
    pub routes: Vec<String>,
    /// Return once CloudFront has accepted the invalidation, without waiting for Completed
    #[arg(long)]
    pub no_wait: bool,
}

#[derive(Debug, Args)]
pub struct UpArgs {
    /// Return once every resource is created or updated and recorded, without waiting for
    /// CloudFront to deploy or the ALB and the service to become ready; `status` exits 3
    /// (deploying) until they are, and the next `up` waits for them and removes what the
    /// profile no longer uses
    #[arg(long)]
    pub no_wait: bool,
}

#[derive(Debug, Args)]
pub struct DownArgs {
    /// Wait until CloudFront has removed the Lambda@Edge replicas, then delete the functions
    #[arg(long)]
    pub wait_replicas: bool,
    /// With --wait-replicas: give up after this long (exit 3, resumable), e.g. 90m, 6h
    #[arg(long, value_name = "DURATION", default_value = "6h", value_parser = humantime::parse_duration,
          requires = "wait_replicas")]
    pub timeout: std::time::Duration,
    /// Also empty and delete the access-log bucket (kept by default)
    #[arg(long)]
    pub purge_logs: bool,
    /// Also empty and delete the route buckets the stack created (`create = true`; kept by default)
    #[arg(long)]
    pub purge_buckets: bool,
}

#[derive(Debug, Args)]
pub struct PackageArgs {
    #[command(subcommand)]
    pub target: PackageTarget,
}

#[derive(Debug, Subcommand)]
pub enum PackageTarget {
    /// The Lambda@Edge authorizer zip (bundle + config.json from the profile)
    Authorizer {
        /// Where to write the zip
        #[arg(long, value_name = "FILE.zip")]
        out: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Which template to start from
    #[arg(long, value_enum, default_value_t = TemplateName::AhiDelivery)]
    pub template: TemplateName,

    /// Stack name to write into the profile [default: the template's]
    #[arg(long, value_name = "NAME")]
    pub stack_name: Option<String>,

    /// Overwrite the profile if it exists
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TemplateName {
    /// Cognito JWT auth, HTTP between CloudFront and the ALB (acknowledged)
    AhiDelivery,
    /// Cognito JWT auth, HTTPS ALB and CloudFront aliases with certificates
    AhiDeliveryHttps,
    /// No authorizer (anyone with the URL can read frames)
    AhiDeliveryNoauth,
    /// One domain, many origins: two APIs, private and public buckets, an SPA (no HealthImaging)
    ReverseProxy,
}
