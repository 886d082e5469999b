//! `flaneur account`: the operator's tools for accounts and API tokens, working on the catalog
//! directly (a running server is not needed, nor stopped). On an instance without a login
//! provider, this is how accounts and their tokens are made.
//!
//! Exit codes: 0 done, 1 the operation failed (no such account, a name taken), 2 misuse.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use flaneur_model::Role;
use flaneur_service::account::{Accounts, checked_name};

use crate::Misuse;
use crate::storage::CatalogArgs;

/// Options of `flaneur account`.
#[derive(Debug, clap::Args)]
pub struct AccountArgs {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Makes an account.
    Create {
        /// Its name, unique on the instance.
        name: String,
        /// Make it an administrator, who sees and acts on everything.
        #[arg(long)]
        admin: bool,
        #[command(flatten)]
        storage: CatalogArgs,
    },
    /// Changes what an account may do.
    SetRole {
        /// The account's name.
        name: String,
        /// `admin` or `user`.
        role: RoleArg,
        #[command(flatten)]
        storage: CatalogArgs,
    },
    /// Makes an API token for an account and prints its value, which is shown only this once
    /// (clients send it as `Authorization: Bearer <value>`).
    Token {
        /// The account's name.
        name: String,
        /// What the token is for, shown in the account's token list.
        #[arg(long, default_value = "")]
        description: String,
        #[command(flatten)]
        storage: CatalogArgs,
    },
    /// Lists the accounts: id, role, tokens and name, tab-separated.
    List {
        #[command(flatten)]
        storage: CatalogArgs,
    },
    /// Deletes an account: its tokens stop working at once and it can no longer log in; its
    /// pictures stay, under its name.
    Delete {
        /// The account's name.
        name: String,
        #[command(flatten)]
        storage: CatalogArgs,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum RoleArg {
    User,
    Admin,
}

impl From<RoleArg> for Role {
    fn from(role: RoleArg) -> Role {
        match role {
            RoleArg::User => Role::User,
            RoleArg::Admin => Role::Admin,
        }
    }
}

/// Runs one account action, writing its result to `out`.
///
/// # Errors
/// Fails when the catalog cannot be opened or the action is refused.
pub async fn run(args: AccountArgs, out: &mut impl Write) -> anyhow::Result<ExitCode> {
    let written = match args.action {
        Action::Create {
            name,
            admin,
            storage,
        } => {
            // Refused before the catalog is opened: a misuse, not a failed operation.
            checked_name(&name).map_err(|e| Misuse(e.to_string()))?;
            let accounts = open(&storage).await?;
            let role = if admin { Role::Admin } else { Role::User };
            let account = accounts.create_account(&name, role).await?;
            writeln!(out, "{}\t{}\t{}", account.id, account.role, account.name)
        }
        Action::SetRole {
            name,
            role,
            storage,
        } => {
            let accounts = open(&storage).await?;
            let account = accounts.account_named(&name).await?;
            accounts.set_role(account.id, role.into()).await?;
            writeln!(
                out,
                "{}\t{}\t{}",
                account.id,
                Role::from(role),
                account.name
            )
        }
        Action::Token {
            name,
            description,
            storage,
        } => {
            let accounts = open(&storage).await?;
            let account = accounts.account_named(&name).await?;
            let issued = accounts.issue_token(Some(account.id), &description).await?;
            writeln!(out, "{}", issued.value)
        }
        Action::List { storage } => {
            let accounts = open(&storage).await?;
            let mut lines = String::new();
            for account in accounts.all_accounts().await? {
                let tokens = accounts.account_tokens(account.id).await?.len();
                lines.push_str(&format!(
                    "{}\t{}\t{tokens}\t{}\n",
                    account.id, account.role, account.name
                ));
            }
            out.write_all(lines.as_bytes())
        }
        Action::Delete { name, storage } => {
            let accounts = open(&storage).await?;
            let account = accounts.account_named(&name).await?;
            accounts.delete_account(&account).await?;
            writeln!(out, "{}\tdeleted\t{}", account.id, account.name)
        }
    };
    match written {
        Ok(()) => Ok(ExitCode::SUCCESS),
        // `| head` closing the pipe is not a failure.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(e) => Err(e).context("cannot write the result"),
    }
}

/// The accounts of the catalog the options name.
async fn open(on: &CatalogArgs) -> anyhow::Result<Accounts> {
    let catalog = on.storage.open_catalog().await?;
    Ok(Accounts::new(catalog))
}
