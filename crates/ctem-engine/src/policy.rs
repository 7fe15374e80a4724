//! Organization rules as code: Rego policies that adjust scored findings
//! and gate CI pipelines, evaluated with the `regorus` engine.
//!
//! A [`FindingPolicy`] is compiled from the files of `[policy] files`, package
//! `ctem`. For each scored finding, its rules read the finding's
//! [input document](finding_input) and may set the tier (`tier`), raise it
//! one level (`raise`) or accept the risk (`accept`), each with a reason
//! that joins the finding's factors. A [`GatePolicy`] (package
//! `ctem.gate`) reads every finding of a run and its rule `deny` returns the
//! messages that fail the pipeline. docs/policy.md describes both for users.
//!
//! Policies are parsed and checked once; each evaluation reuses the
//! compiled engine. A policy that does not parse, or whose rules fail to
//! evaluate, is a [`PolicyError`] naming the file and the line, and stops
//! the run before anything is written.
//!
//! ```
//! use ctem_engine::policy::FindingPolicy;
//!
//! let policy = FindingPolicy::from_sources(vec![(
//!     "org.rego".to_string(),
//!     "package ctem\nraise := \"payment systems first\" if input.asset.owner == \"payments\"".to_string(),
//! )])
//! .unwrap();
//! let input = serde_json::json!({"asset": {"owner": "payments"}});
//! let decision = policy.decide(&input).unwrap();
//! assert_eq!(decision.raise, vec!["payment systems first".to_string()]);
//! ```

mod recursion;

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ctem_model::{Asset, AssetKey, Factor, RiskAssessment, Tier};
use ctem_store::ScoredFinding;
use regorus::utils::limits::ExecutionTimerConfig;
use regorus::{Engine, Value};
use serde_json::{Value as Json, json};

/// The package whose rules adjust findings.
pub const FINDING_PACKAGE: &str = "data.ctem";
/// The package of a gate policy.
pub const GATE_PACKAGE: &str = "data.ctem.gate";
/// The name of the factors that policies add to a finding.
pub const POLICY_FACTOR: &str = "policy";
/// The largest policy file ctem reads: 1 MiB, the limit of the regorus
/// parser, which also takes at most 20,000 lines of 1,024 columns.
const MAX_POLICY_BYTES: u64 = 1024 * 1024;

/// The maximum length, in characters, of a policy line that an error
/// message quotes whole.
const MAX_QUOTED_LINE: usize = 240;

/// Cuts the lines of an error message that quote a policy to
/// [`MAX_QUOTED_LINE`] characters, so that a syntax error on a huge line
/// does not fill the terminal.
fn clip_lines(message: &str) -> String {
    let mut clipped = String::with_capacity(message.len().min(16 * 1024));
    for (index, line) in message.split('\n').enumerate() {
        if index > 0 {
            clipped.push('\n');
        }
        match line.char_indices().nth(MAX_QUOTED_LINE) {
            Some((end, _)) => {
                clipped.push_str(&line[..end]);
                clipped.push_str(" [...]");
            }
            None => clipped.push_str(line),
        }
    }
    clipped
}

/// A policy that could not be loaded or evaluated.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("{path}: cannot read the policy: {source}")]
    Read { path: String, source: std::io::Error },
    /// The engine's message names the file, the line and the column, and
    /// quotes the line.
    #[error("policy {path} does not compile: {message}")]
    Compile { path: String, message: String },
    #[error("policy {path}: {message}")]
    Invalid { path: String, message: String },
    #[error("policy evaluation failed{context}: {message}")]
    Evaluate { context: String, message: String },
}

/// The deepest nesting of brackets that a policy may have. The parser of
/// regorus 0.14.1 parses each `[` and `{` as a comprehension and, when that
/// fails, again as a literal, so its time doubles with each level. A debug
/// build on a 2-core machine took about 1 s for 14 levels and 28 s for 18,
/// so 40 levels would take years (an estimate).
const MAX_BRACKET_DEPTH: usize = 16;

/// The maximum number of operators in one expression, counting those of
/// the enclosing expressions when brackets nest. regorus 0.14.1 parses a
/// chain such as `1 + 1 + ... + 1` into a tree one level deeper per
/// operator and evaluates it recursively. The release build of ctem aborted
/// with a stack overflow (8 MiB main-thread stack) on 15,000 additions and
/// handled 3,000. A debug build evaluated 2,000 on a 2 MiB thread, the
/// default for threads that Rust spawns, so 1,000 leaves room.
const MAX_EXPRESSION_OPERATORS: usize = 1_000;

/// The maximum number of unary minus signs in one expression, counting
/// those of the enclosing expressions but not the sign of a negative
/// number such as `-1`. The regorus 0.14.1 parser reads the operand of each
/// unary minus with a recursive call, and a debug build overflowed a 2 MiB
/// thread stack on 700 signs in a row. regorus evaluates a unary minus only
/// on a number literal, so a policy that evaluates never needs one.
const MAX_UNARY_MINUS: usize = 16;

/// The parse cost that the `[` and `{` brackets of all loaded policies
/// may add up to, where a bracket opened inside n others of these kinds
/// costs 2^(n + 1). The regorus 0.14 parser doubles its time with each
/// level: one line of 16 nested `[` (a cost of about 2^17) took 2.2 s to
/// load in a debug build, and 30 such lines 43 s. Under a budget of 2^19,
/// 15 lines of objects nested 14 deep (`{"a": {"a": ...}}`) took 11 s to
/// load in a release build. This budget of 2^18 admits half that cost.
/// Real policies stay below it. 10,000 brackets, none inside more than
/// three others, cost at most 160,000.
const MAX_BRACKET_COST: u64 = 1 << 18;

/// The maximum number of rules (functions included) that the loaded
/// policies may define. regorus 0.14 evaluates a rule that reads another
/// one recursively, so a chain of 2,500 rules, each reading the next,
/// overflowed the 8 MiB stack of a debug build. A chain cannot be longer
/// than the number of rules.
// NOTE: measured, not derived. A chain of 1,000 rules whose bodies also
// nest expressions near their own limits was not tried.
const MAX_POLICY_RULES: usize = 1_000;

/// The kinds of lexical token that [`check_depth`] distinguishes.
#[derive(Clone, Copy, PartialEq)]
enum Token {
    /// A number, a string or a closing bracket.
    Operand,
    /// A name or a keyword. The parser reads a name before `(` as a call.
    Name,
    /// A binary or unary operator, `.` or `in`.
    Operator,
    /// `,`, `;`, `:`, `:=`, `=` or an opening bracket, after which a new
    /// expression starts.
    Separator,
}

/// Rejects a policy whose brackets nest deeper than [`MAX_BRACKET_DEPTH`] or
/// whose expression has more than [`MAX_EXPRESSION_OPERATORS`] operators or
/// [`MAX_UNARY_MINUS`] unary minus signs,
/// naming the line and the column where the limit is passed. Text in
/// strings and comments does not count.
///
/// An expression ends where the parser must start a new one: after a
/// separator, or where an operand follows an operand, as at the start of
/// the next statement of a body. The count may be higher than the depth of
/// the parsed tree, never lower.
fn check_depth(path: &str, text: &str, bracket_cost: &mut u64) -> Result<(), PolicyError> {
    // Whether each open bracket is a `[` or a `{`, outermost first.
    let mut doubling: Vec<bool> = Vec::new();
    // The operator count of each open bracket's expression, outermost first.
    let mut operators: Vec<usize> = vec![0];
    // The unary minus signs of each open bracket's expression. A unary
    // minus applies to the rest of its expression.
    let mut unary_minus: Vec<usize> = vec![0];
    let mut previous = Token::Separator;
    // Whether spaces, a line break or a comment come before the current
    // token.
    let mut spaced = false;
    let mut line = 1;
    let mut column = 0;
    let mut chars = text.chars().peekable();
    let too_deep = |line: usize, column: usize, problem: String| PolicyError::Compile {
        path: path.to_string(),
        message: format!("{path}:{line}:{column}: {problem}"),
    };
    while let Some(c) = chars.next() {
        column += 1;
        let token = match c {
            '\n' => {
                line += 1;
                column = 0;
                spaced = true;
                continue;
            }
            // A comment runs to the end of the line.
            '#' => {
                if chars.by_ref().any(|c| c == '\n') {
                    line += 1;
                    column = 0;
                }
                spaced = true;
                continue;
            }
            '"' | '`' => {
                // A string: `"` strings take backslash escapes and end at
                // the line's end, raw strings may span lines.
                let quote = c;
                while let Some(c) = chars.next() {
                    column += 1;
                    if c == quote {
                        break;
                    }
                    if c == '\n' {
                        line += 1;
                        column = 0;
                        if quote == '"' {
                            break;
                        }
                    }
                    if c == '\\' && quote == '"' && chars.next().is_some() {
                        column += 1;
                    }
                }
                Token::Operand
            }
            c if c.is_ascii_alphanumeric() || c == '_' => {
                let mut word = String::from(c);
                while let Some(&next) = chars.peek() {
                    // A number's exponent takes a sign: `1e-5`.
                    let sign = (next == '+' || next == '-') && c.is_ascii_digit() && word.ends_with(['e', 'E']);
                    let number_dot = next == '.' && c.is_ascii_digit();
                    if !(next.is_ascii_alphanumeric() || next == '_' || sign || number_dot) {
                        break;
                    }
                    word.push(next);
                    chars.next();
                    column += 1;
                }
                match word.as_str() {
                    "in" => Token::Operator,
                    _ if c.is_ascii_digit() => Token::Operand,
                    _ => Token::Name,
                }
            }
            '(' | '[' | '{' => {
                // `[` directly after an operand indexes it, one more level
                // of the expression, and `(` after a name opens a call's
                // arguments, even after spaces. A bracket after another
                // operand starts the next statement.
                let after_operand = matches!(previous, Token::Operand | Token::Name);
                let count = operators.last_mut().expect("the outermost level stays");
                if c == '[' && after_operand && !spaced {
                    *count += 1;
                } else if after_operand && !(c == '(' && previous == Token::Name) {
                    *count = 0;
                    *unary_minus.last_mut().expect("the outermost level stays") = 0;
                }
                operators.push(0);
                unary_minus.push(0);
                if c != '(' {
                    let levels = doubling.iter().filter(|&&doubles| doubles).count() as u32 + 1;
                    *bracket_cost = bracket_cost.saturating_add(1u64 << levels.min(62));
                    if *bracket_cost > MAX_BRACKET_COST {
                        return Err(too_deep(
                            line,
                            column,
                            "brackets nest deeply too often: the Rego parser doubles its time with each level of `[` \
                             or `{`, so loading the policies would take minutes; move inner values into rules of \
                             their own"
                                .to_string(),
                        ));
                    }
                }
                doubling.push(c != '(');
                if operators.len() - 1 > MAX_BRACKET_DEPTH {
                    return Err(too_deep(
                        line,
                        column,
                        format!(
                            "brackets nest more than {MAX_BRACKET_DEPTH} levels deep; move inner values into rules of \
                             their own"
                        ),
                    ));
                }
                previous = Token::Separator;
                spaced = false;
                continue;
            }
            ']' | '}' | ')' => {
                // The bracketed group is one operand of the outer expression,
                // which goes on with the count it had before the bracket.
                if operators.len() > 1 {
                    operators.pop();
                    unary_minus.pop();
                }
                doubling.pop();
                previous = Token::Operand;
                spaced = false;
                continue;
            }
            ':' if chars.peek() == Some(&'=') => {
                chars.next();
                column += 1;
                Token::Separator
            }
            '=' if chars.peek() == Some(&'=') => {
                chars.next();
                column += 1;
                Token::Operator
            }
            '!' | '<' | '>' => {
                if chars.peek() == Some(&'=') {
                    chars.next();
                    column += 1;
                }
                Token::Operator
            }
            '+' | '-' | '*' | '/' | '%' | '&' | '|' | '.' => Token::Operator,
            ',' | ';' | ':' | '=' => Token::Separator,
            // Spaces, and characters that the parser rejects on its own.
            _ => {
                spaced = true;
                continue;
            }
        };

        let count = operators.last_mut().expect("the outermost level stays");
        let signs = unary_minus.last_mut().expect("the outermost level stays");
        match token {
            Token::Separator => {
                *count = 0;
                *signs = 0;
            }
            Token::Operand | Token::Name if matches!(previous, Token::Operand | Token::Name) => {
                *count = 0;
                *signs = 0;
            }
            Token::Operator => {
                let number = chars.peek().is_some_and(char::is_ascii_digit);
                if c == '-' && !number && matches!(previous, Token::Operator | Token::Separator) {
                    *signs += 1;
                    if unary_minus.iter().sum::<usize>() > MAX_UNARY_MINUS {
                        return Err(too_deep(
                            line,
                            column,
                            format!(
                                "the expression has more than {MAX_UNARY_MINUS} unary minus signs; Rego applies a unary \
                                 minus only to a number"
                            ),
                        ));
                    }
                }
                let count = operators.last_mut().expect("the outermost level stays");
                *count += 1;
                let total: usize = operators.iter().sum();
                if total > MAX_EXPRESSION_OPERATORS {
                    return Err(too_deep(
                        line,
                        column,
                        format!(
                            "the expression has more than {MAX_EXPRESSION_OPERATORS} operators; split it with local \
                             variables or helper rules"
                        ),
                    ));
                }
            }
            _ => {}
        }
        previous = token;
        spaced = false;
    }
    Ok(())
}

/// The maximum time that one evaluation of a policy may take: one finding's
/// rules, or the gate over a run's findings. A policy that loops over a
/// huge range or recurses without end then stops the run with an error
/// instead of hanging it. Gate policies over 100,000 findings finish far
/// below it.
pub const POLICY_TIME_LIMIT: Duration = Duration::from_secs(30);

/// Sets the time that one evaluation may take.
fn limit_time(engine: &mut Engine, limit: Duration) {
    engine.set_execution_timer_config(ExecutionTimerConfig {
        limit,
        // The engine reads the clock once per this many steps of work.
        check_interval: NonZeroU32::new(256).expect("not zero"),
    });
}

/// Rewrites the engine's message for an evaluation that ran out of time.
fn evaluation_message(message: String, limit: Duration) -> String {
    if message.contains("exceeded time limit") {
        format!(
            "the evaluation took longer than {} s and was stopped; look for a loop over a huge range or a \
             recursion without end",
            limit.as_secs_f64()
        )
    } else if message.contains("could not find function") {
        format!(
            "{message}\nctem's Rego engine has the built-ins of OPA's groups for strings, regex, glob, \
             numbers, aggregates, arrays, sets, objects, types, encoding (base64, base64url, hex, \
             urlquery, json), time, net, semver and graph, but not crypto, io.jwt, http, yaml or uuid; \
             check the name against docs/policy.md"
        )
    } else {
        message
    }
}

/// Rejects a policy that contains a NUL character, naming its line and
/// column. The Rego parser reports one inside a string as an unmatched
/// quote.
fn check_no_nul(path: &str, text: &str) -> Result<(), PolicyError> {
    let Some(offset) = text.find('\0') else {
        return Ok(());
    };
    let (line, column) = crate::files::line_column(text, offset);
    Err(PolicyError::Compile {
        path: path.to_string(),
        message: format!("{path}:{line}:{column}: a NUL character; a policy is text"),
    })
}

/// Loads policy files into an engine that has parsed them all.
fn load_engine(sources: Vec<(String, String)>, limit: Duration) -> Result<(Engine, Vec<String>), PolicyError> {
    let mut engine = Engine::new();
    limit_time(&mut engine, limit);
    // A built-in called with a wrong argument fails the evaluation instead
    // of silently making the rule undefined.
    engine.set_strict_builtin_errors(true);
    let mut packages = Vec::new();
    let mut paths = Vec::new();
    let mut bracket_cost = 0;
    for (path, text) in sources {
        // Some editors start a UTF-8 file with a byte order mark, which the
        // Rego parser reports as an invalid character on a blank-looking
        // line.
        let text = match text.strip_prefix('\u{feff}') {
            Some(rest) => rest.to_string(),
            None => text,
        };
        check_no_nul(&path, &text)?;
        check_depth(&path, &text, &mut bracket_cost)?;
        paths.push(path.clone());
        let package = engine
            .add_policy(path.clone(), text)
            .map_err(|error| PolicyError::Compile {
                path: path.clone(),
                message: clip_lines(&error.to_string()),
            })?;
        packages.push(package);
    }
    let rules: usize = engine.get_modules().iter().map(|module| module.policy.len()).sum();
    if rules > MAX_POLICY_RULES {
        return Err(PolicyError::Invalid {
            path: paths.join(", "),
            message: format!(
                "the policies define {rules} rules; at most {MAX_POLICY_RULES} are allowed, because a long chain of \
                 rules that read each other overflows the stack of the Rego engine"
            ),
        });
    }
    recursion::check_recursion(&mut engine)?;
    Ok((engine, packages))
}

fn read_sources(paths: &[PathBuf]) -> Result<Vec<(String, String)>, PolicyError> {
    paths
        .iter()
        .map(|path| {
            let display = path.display().to_string();
            let read_error = |source| PolicyError::Read {
                path: display.clone(),
                source,
            };
            let size = std::fs::metadata(path).map_err(read_error)?.len();
            if size > MAX_POLICY_BYTES {
                return Err(PolicyError::Invalid {
                    path: display.clone(),
                    message: format!("the file has {size} bytes; a policy may have at most {MAX_POLICY_BYTES}"),
                });
            }
            let text = crate::files::read_text(path, MAX_POLICY_BYTES).map_err(|error| match error {
                crate::files::ReadTextError::Io(source) => read_error(source),
                invalid => PolicyError::Invalid {
                    path: display.clone(),
                    message: invalid.to_string(),
                },
            })?;
            Ok((display, text))
        })
        .collect()
}

/// Evaluates a package as one object, so that rules the policy leaves
/// out are just missing keys. The first evaluation also runs the engine's
/// semantic checks (unknown variables, functions and imports).
fn eval_package(
    engine: &mut Engine,
    package: &str,
    input: &Json,
    context: &str,
    limit: Duration,
) -> Result<Json, PolicyError> {
    let evaluate_error = |message: String| PolicyError::Evaluate {
        context: context.to_string(),
        message,
    };
    engine.set_input(Value::from(input.clone()));
    let results = engine
        .eval_query(package.to_string(), false)
        .map_err(|error| evaluate_error(evaluation_message(error.to_string(), limit)))?;
    let value = results
        .result
        .into_iter()
        .next()
        .and_then(|result| result.expressions.into_iter().next())
        .map(|expression| expression.value);
    match value {
        Some(value) if value != Value::Undefined => {
            serde_json::to_value(&value).map_err(|error| evaluate_error(error.to_string()))
        }
        _ => Ok(Json::Object(serde_json::Map::new())),
    }
}

/// Checks that some file declares `package` and evaluates it once with an
/// empty input, so that errors the engine finds only when it prepares the
/// evaluation surface at load time. An error of this evaluation, such as a
/// loop that does not read the input and runs out of time, belongs to no
/// finding, so its message states that it happened at load.
fn check_package(
    engine: &mut Engine,
    packages: &[String],
    paths: &str,
    package: &str,
    limit: Duration,
) -> Result<(), PolicyError> {
    if !packages.iter().any(|declared| declared == package) {
        return Err(PolicyError::Invalid {
            path: paths.to_string(),
            message: format!(
                "no file declares package {}; found {}",
                package.trim_start_matches("data."),
                packages
                    .iter()
                    .map(|declared| declared.trim_start_matches("data."))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    let context = format!(" in {paths} while checking it at load with an empty input, before any finding");
    eval_package(engine, package, &json!({}), &context, limit)?;
    Ok(())
}

/// The decision of a policy for one finding. Each entry is a reason.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Decision {
    /// `tier`: the tier to set, with its reason.
    pub tier: Option<(Tier, String)>,
    /// `raise`: reasons to raise the tier one level (once, however many).
    pub raise: Vec<String>,
    /// `accept`: reasons the risk is accepted.
    pub accept: Vec<String>,
}

impl Decision {
    /// Returns whether the policy changed nothing.
    pub fn is_empty(&self) -> bool {
        self.tier.is_none() && self.raise.is_empty() && self.accept.is_empty()
    }

    /// Applies the decision to a risk assessment: the tier is set, then
    /// raised, and one factor per reason explains it. The score stays the
    /// model's, so the contributions still add up to it.
    pub fn apply(&self, risk: &mut RiskAssessment, source: &str) {
        let factor = |rule: &str, reason: &str| Factor {
            name: POLICY_FACTOR.into(),
            value: ctem_model::format_compact!("data/ctem/{rule}: {reason}"),
            contribution: 0.0,
            source: source.into(),
            weight: None,
            date: None,
        };
        if let Some((tier, reason)) = &self.tier {
            risk.tier = *tier;
            risk.factors.push(factor("tier", &format!("{tier}, {reason}")));
        }
        if !self.raise.is_empty() {
            risk.tier = raised(risk.tier);
        }
        for reason in &self.raise {
            risk.factors.push(factor("raise", reason));
        }
        for reason in &self.accept {
            risk.factors.push(factor("accept", reason));
        }
    }
}

/// Returns the tier one level more urgent. P1 stays P1.
fn raised(tier: Tier) -> Tier {
    match tier {
        Tier::P1 | Tier::P2 => Tier::P1,
        Tier::P3 => Tier::P2,
        Tier::P4 => Tier::P3,
    }
}

/// Returns the reason of a policy acceptance, if the factors contain one.
pub fn accepted_by_policy(risk: &RiskAssessment) -> Option<&str> {
    risk.factors
        .iter()
        .filter(|factor| factor.name == POLICY_FACTOR)
        .find_map(|factor| factor.value.strip_prefix("data/ctem/accept: "))
}

/// The rules of package `ctem`, compiled once.
#[derive(Clone)]
pub struct FindingPolicy {
    engine: Engine,
    /// The files, for error messages and the factors' source.
    paths: String,
    /// The maximum time that one finding's evaluation may take.
    time_limit: Duration,
}

impl std::fmt::Debug for FindingPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FindingPolicy").field("paths", &self.paths).finish()
    }
}

impl FindingPolicy {
    /// Reads, parses and checks the policy files.
    pub fn load(paths: &[PathBuf]) -> Result<FindingPolicy, PolicyError> {
        FindingPolicy::from_sources(read_sources(paths)?)
    }

    /// Parses and checks policies given as (file name, text) pairs.
    pub fn from_sources(sources: Vec<(String, String)>) -> Result<FindingPolicy, PolicyError> {
        FindingPolicy::from_sources_with_time_limit(sources, POLICY_TIME_LIMIT)
    }

    /// Parses and checks policies, with `limit` as the maximum time of the
    /// check at load and of each finding's evaluation.
    fn from_sources_with_time_limit(
        sources: Vec<(String, String)>,
        limit: Duration,
    ) -> Result<FindingPolicy, PolicyError> {
        let paths = sources
            .iter()
            .map(|(path, _)| path.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let (mut engine, packages) = load_engine(sources, limit)?;
        check_package(&mut engine, &packages, &paths, FINDING_PACKAGE, limit)?;
        Ok(FindingPolicy {
            engine,
            paths,
            time_limit: limit,
        })
    }

    /// Sets the maximum time that one finding's evaluation may take, instead of
    /// [`POLICY_TIME_LIMIT`].
    pub fn with_time_limit(mut self, limit: Duration) -> FindingPolicy {
        limit_time(&mut self.engine, limit);
        self.time_limit = limit;
        self
    }

    /// Returns the policy files, comma-separated.
    pub fn paths(&self) -> &str {
        &self.paths
    }

    /// Evaluates the rules for one finding's input document.
    pub fn decide(&self, input: &Json) -> Result<Decision, PolicyError> {
        let mut engine = self.engine.clone();
        self.decide_with(&mut engine, input)
    }

    fn decide_with(&self, engine: &mut Engine, input: &Json) -> Result<Decision, PolicyError> {
        let context = format!(
            " in {} for finding {}",
            self.paths,
            input
                .get("fingerprint")
                .and_then(Json::as_str)
                .unwrap_or("(no fingerprint)")
        );
        let package = eval_package(engine, FINDING_PACKAGE, input, &context, self.time_limit)?;
        let invalid = |message: String| PolicyError::Evaluate {
            context: context.clone(),
            message,
        };

        let tier = match package.get("tier") {
            None => None,
            Some(value) => Some(tier_rule(value).map_err(invalid)?),
        };
        let raise = package
            .get("raise")
            .map(|value| reasons("raise", value))
            .transpose()
            .map_err(invalid)?;
        let accept = package
            .get("accept")
            .map(|value| reasons("accept", value))
            .transpose()
            .map_err(invalid)?;
        Ok(Decision {
            tier,
            raise: raise.unwrap_or_default(),
            accept: accept.unwrap_or_default(),
        })
    }

    /// Evaluates the rules for every finding and applies the decisions.
    /// Returns how many findings the policy changed.
    pub fn apply(
        &self,
        findings: &mut [ScoredFinding],
        assets: &BTreeMap<AssetKey, Asset>,
    ) -> Result<usize, PolicyError> {
        let mut engine = self.engine.clone();
        let mut changed = 0;
        for scored in findings.iter_mut() {
            let input = finding_input(scored, assets.get(&scored.finding.asset));
            let decision = self.decide_with(&mut engine, &input)?;
            if !decision.is_empty() {
                decision.apply(&mut scored.risk, &self.paths);
                changed += 1;
            }
        }
        Ok(changed)
    }
}

/// Reads `tier`: an object `{"tier": "P1", "reason": "..."}`.
fn tier_rule(value: &Json) -> Result<(Tier, String), String> {
    let expected = "data.ctem.tier must be an object {\"tier\": \"P1\"..\"P4\", \"reason\": \"...\"}";
    let tier = value
        .get("tier")
        .and_then(Json::as_str)
        .ok_or_else(|| format!("{expected}; got {value}"))?;
    let tier = tier
        .parse::<Tier>()
        .map_err(|_| format!("{expected}; got tier {tier:?}"))?;
    match value.get("reason") {
        Some(Json::String(reason)) if reason.trim().is_empty() => Err(format!(
            "{expected}; the reason is empty, so no one could tell why the tier changed"
        )),
        Some(Json::String(reason)) => Ok((tier, reason.clone())),
        Some(reason) => Err(format!("{expected}; the reason {reason} is not a string")),
        None => Err(format!("{expected}; the reason is missing in {value}")),
    }
}

/// Reads `raise` or `accept`: a reason, or a set of reasons. An empty
/// reason is an error: an accepted finding leaves `ctem actions`, and its
/// reason is the only record of why.
fn reasons(rule: &str, value: &Json) -> Result<Vec<String>, String> {
    // A gate's entries are the messages it prints when it denies a run.
    let (noun, example) = match rule {
        "gate.deny" => ("message", "new P1 finding ..."),
        _ => ("reason", "test fixture keys are fake"),
    };
    let wrong = || format!("data.ctem.{rule} must be a {noun} string or a set of them; got {value}");
    let reason = |item: &Json| match item.as_str() {
        Some(text) if text.trim().is_empty() => Err(format!(
            "data.ctem.{rule} has an empty {noun}; write why, such as \"{example}\""
        )),
        Some(text) => Ok(text.to_string()),
        None => Err(wrong()),
    };
    match value {
        Json::String(_) => Ok(vec![reason(value)?]),
        Json::Array(items) => items.iter().map(reason).collect(),
        _ => Err(wrong()),
    }
}

/// Builds the input document of a finding, as docs/policy.md describes it.
pub fn finding_input(scored: &ScoredFinding, asset: Option<&Asset>) -> Json {
    let finding = &scored.finding;
    let risk = &scored.risk;
    let factor = |name: &str| risk.factors.iter().find(|factor| factor.name == name);
    let epss = factor("epss").and_then(|factor| {
        factor
            .value
            .split_whitespace()
            .next()
            .and_then(|text| text.parse::<f64>().ok())
    });
    json!({
        "fingerprint": scored.fingerprint.to_string(),
        "kind": finding.kind.as_str(),
        "rule_id": finding.rule_id,
        "tool": finding.tool,
        "title": finding.title,
        "severity": finding.severity.as_str(),
        "vulnerability_ids": finding.vulnerability_ids.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "cwes": finding.cwes.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "status": finding.source_status,
        "asset": asset_input(&finding.asset, asset),
        "score": risk.score,
        "tier": risk.tier.as_str(),
        "kev": factor("kev").is_some(),
        "epss": epss,
        "factors": risk.factors.iter().map(|factor| json!({
            "name": factor.name,
            "value": factor.value,
            "contribution": factor.contribution,
            "source": factor.source,
        })).collect::<Vec<_>>(),
    })
}

fn asset_input(key: &AssetKey, asset: Option<&Asset>) -> Json {
    json!({
        "key": key.to_string(),
        "kind": asset.map(|asset| asset.kind.as_str()),
        "name": asset.map(|asset| asset.name.as_str()),
        "criticality": asset.and_then(|asset| asset.criticality).map(|level| level.as_str()),
        "internet_exposed": asset.and_then(|asset| asset.internet_exposed),
        "tags": asset.map(|asset| asset.tags.clone()).unwrap_or_default(),
        "owner": asset.and_then(|asset| asset.owner.clone()),
    })
}

/// A gate policy (package `ctem.gate`) for CI pipelines.
#[derive(Clone)]
pub struct GatePolicy {
    engine: Engine,
    path: String,
    /// The maximum time that the evaluation may take.
    time_limit: Duration,
}

impl std::fmt::Debug for GatePolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatePolicy").field("path", &self.path).finish()
    }
}

impl GatePolicy {
    /// Reads, parses and checks a gate policy file.
    pub fn load(path: &Path) -> Result<GatePolicy, PolicyError> {
        GatePolicy::from_sources(read_sources(&[path.to_path_buf()])?)
    }

    /// Parses and checks gate policies given as (file name, text) pairs.
    pub fn from_sources(sources: Vec<(String, String)>) -> Result<GatePolicy, PolicyError> {
        let path = sources
            .iter()
            .map(|(path, _)| path.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let (mut engine, packages) = load_engine(sources, POLICY_TIME_LIMIT)?;
        check_package(&mut engine, &packages, &path, GATE_PACKAGE, POLICY_TIME_LIMIT)?;
        // A gate without `deny` passes every run, so a misspelled rule
        // name would let everything through unseen.
        if !defines_rule(&mut engine, GATE_PACKAGE, "deny") {
            return Err(PolicyError::Invalid {
                path,
                message: format!(
                    "package {} defines no deny rule (a function named deny does not count), so the gate would \
                     pass every run; write `deny contains MESSAGE if {{ ... }}`",
                    GATE_PACKAGE.trim_start_matches("data.")
                ),
            });
        }
        Ok(GatePolicy {
            engine,
            path,
            time_limit: POLICY_TIME_LIMIT,
        })
    }

    /// Sets the maximum time that the evaluation may take, instead of
    /// [`POLICY_TIME_LIMIT`].
    pub fn with_time_limit(mut self, limit: Duration) -> GatePolicy {
        limit_time(&mut self.engine, limit);
        self.time_limit = limit;
        self
    }

    /// Evaluates `deny` over the run's findings and the new ones among them
    /// (input documents of [`finding_input`]). Returns the messages, sorted;
    /// empty when the gate passes.
    pub fn deny(&self, findings: Vec<Json>, new: Vec<Json>) -> Result<Vec<String>, PolicyError> {
        let mut engine = self.engine.clone();
        let context = format!(" in {}", self.path);
        let input = json!({"findings": findings, "new": new});
        let package = eval_package(&mut engine, GATE_PACKAGE, &input, &context, self.time_limit)?;
        let Some(deny) = package.get("deny") else {
            return Ok(Vec::new());
        };
        let mut messages = reasons("gate.deny", deny).map_err(|message| PolicyError::Evaluate { context, message })?;
        messages.sort();
        Ok(messages)
    }
}

/// Returns whether some loaded module of `package` (`data.ctem.gate`)
/// defines a rule named `rule` that is a value, a set or an object,
/// whatever its body evaluates to. A function of that name does not count:
/// the package's value never contains it.
fn defines_rule(engine: &mut Engine, package: &str, rule: &str) -> bool {
    use regorus::unstable::{Expr, Rule, RuleHead};

    // The name at the base of a rule's reference: `deny` in `deny[x]`.
    fn base_name(mut refr: &Expr) -> Option<String> {
        loop {
            match refr {
                Expr::Var { value, .. } => return value.as_string().ok().map(|name| name.to_string()),
                Expr::RefDot { refr: inner, .. } | Expr::RefBrack { refr: inner, .. } => refr = inner,
                _ => return None,
            }
        }
    }

    engine.get_modules().iter().any(|module| {
        let in_package =
            recursion::ref_path(&module.package.refr).is_some_and(|path| format!("data.{}", path.join(".")) == package);
        in_package
            && module.policy.iter().any(|defined| {
                let refr = match defined.as_ref() {
                    Rule::Spec {
                        head: RuleHead::Compr { refr, .. } | RuleHead::Set { refr, .. },
                        ..
                    } => refr,
                    Rule::Default { refr, args, .. } if args.is_empty() => refr,
                    _ => return false,
                };
                base_name(refr).is_some_and(|name| name == rule)
            })
    })
}

/// Resolves `[policy] files` against the configuration's folder.
pub fn policy_paths(files: &[PathBuf], base: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = Vec::with_capacity(files.len());
    for path in files.iter().map(|file| base.join(file)) {
        // A file listed twice is loaded once, and its errors name it once.
        if !paths.contains(&path) {
            paths.push(path);
        }
    }
    paths
}

#[cfg(test)]
mod tests {
    use super::*;
    use ctem_intel::Intel;
    use ctem_model::{AssetKind, Criticality, Finding, FindingKind, Severity};

    fn policy(text: &str) -> Result<FindingPolicy, PolicyError> {
        FindingPolicy::from_sources(vec![("org.rego".to_string(), text.to_string())])
    }

    /// A high-severity secret on an internal, low-criticality host owned
    /// by `payments`, scored by the real model: likelihood 0.5 * 0.81,
    /// impact 0.35 * 0.9, score 35.7, tier P3.
    fn scored() -> (ScoredFinding, Asset) {
        let mut asset = Asset::new(AssetKind::Host, "web-1", "web-1");
        asset.internet_exposed = Some(false);
        asset.criticality = Some(Criticality::Low);
        asset.owner = Some("payments".to_string());
        asset.tags = vec!["pci".to_string()];
        let finding = Finding::new(
            "gitleaks",
            "aws-access-key",
            FindingKind::Secret,
            "AWS key",
            Severity::High,
            asset.key.clone(),
        );
        let risk = ctem_risk::assess(&finding, Some(&asset), &Intel::default());
        let scored = ScoredFinding {
            fingerprint: finding.fingerprint(),
            finding,
            risk,
            published: None,
        };
        (scored, asset)
    }

    fn decide(policy: &FindingPolicy) -> (ScoredFinding, Decision) {
        let (mut scored, asset) = scored();
        let assets = BTreeMap::from([(asset.key.clone(), asset)]);
        let input = finding_input(&scored, assets.get(&scored.finding.asset));
        let decision = policy.decide(&input).unwrap();
        policy.apply(std::slice::from_mut(&mut scored), &assets).unwrap();
        (scored, decision)
    }

    fn policy_factors(risk: &RiskAssessment) -> Vec<&str> {
        risk.factors
            .iter()
            .filter(|factor| factor.name == POLICY_FACTOR)
            .map(|factor| factor.value.as_str())
            .collect()
    }

    #[test]
    fn input_document_names_the_asset_and_the_score() {
        let (scored, asset) = scored();
        let input = finding_input(&scored, Some(&asset));
        assert_eq!(input["kind"], "secret");
        assert_eq!(input["tool"], "gitleaks");
        assert_eq!(input["severity"], "high");
        assert_eq!(input["asset"]["criticality"], "low");
        assert_eq!(input["asset"]["internet_exposed"], false);
        assert_eq!(input["asset"]["owner"], "payments");
        assert_eq!(input["asset"]["tags"], json!(["pci"]));
        assert_eq!(input["kev"], false);
        assert_eq!(input["epss"], Json::Null);
        assert_eq!(input["tier"], scored.risk.tier.as_str());
        assert_eq!(input["score"], scored.risk.score);
    }

    #[test]
    fn tier_overrides_the_model() {
        let policy = policy(
            r#"package ctem
tier := {"tier": "P4", "reason": "test keys only"} if input.rule_id == "aws-access-key""#,
        )
        .unwrap();
        let (scored, decision) = decide(&policy);
        assert_eq!(decision.tier, Some((Tier::P4, "test keys only".to_string())));
        assert_eq!(scored.risk.tier, Tier::P4);
        assert_eq!(policy_factors(&scored.risk), vec!["data/ctem/tier: P4, test keys only"]);
    }

    #[test]
    fn raise_bumps_the_tier_one_level_once() {
        let policy = policy(
            r#"package ctem
raise contains "payments first" if input.asset.owner == "payments"
raise contains "pci scope" if "pci" in input.asset.tags"#,
        )
        .unwrap();
        let (unchanged, _) = scored();
        let (scored, decision) = decide(&policy);
        assert_eq!(
            decision.raise,
            vec!["payments first".to_string(), "pci scope".to_string()]
        );
        assert_eq!(unchanged.risk.tier, Tier::P3);
        assert_eq!(scored.risk.tier, Tier::P2);
        assert_eq!(scored.risk.score, unchanged.risk.score);
        assert_eq!(
            policy_factors(&scored.risk),
            vec!["data/ctem/raise: payments first", "data/ctem/raise: pci scope"]
        );
    }

    #[test]
    fn raise_keeps_p1() {
        assert_eq!(raised(Tier::P1), Tier::P1);
        assert_eq!(raised(Tier::P4), Tier::P3);
    }

    #[test]
    fn accept_marks_the_finding() {
        let policy = policy(
            r#"package ctem
accept := "rotated weekly by the vault" if input.kind == "secret""#,
        )
        .unwrap();
        let (unchanged, _) = scored();
        let (scored, _) = decide(&policy);
        assert_eq!(accepted_by_policy(&scored.risk), Some("rotated weekly by the vault"));
        assert_eq!(scored.risk.tier, unchanged.risk.tier);
    }

    #[test]
    fn rules_that_do_not_apply_change_nothing() {
        let policy = policy(
            r#"package ctem
raise := "never" if input.tool == "zap""#,
        )
        .unwrap();
        let (unchanged, _) = scored();
        let (scored, decision) = decide(&policy);
        assert!(decision.is_empty());
        assert_eq!(scored.risk, unchanged.risk);
    }

    #[test]
    fn syntax_error_names_the_file_and_line() {
        let error = policy("package ctem\n\nraise := if {\n").unwrap_err();
        let message = error.to_string();
        assert!(matches!(error, PolicyError::Compile { .. }), "{message}");
        assert!(message.contains("org.rego:3:"), "{message}");
    }

    #[test]
    fn unknown_variable_is_an_error_at_load() {
        let error = policy("package ctem\n\nraise := \"x\" if {\n  undefined_thing == 1\n}\n").unwrap_err();
        let message = error.to_string();
        assert!(message.contains("org.rego:4:"), "{message}");
    }

    #[test]
    fn wrong_package_is_named() {
        let error = policy("package acme\nraise := \"x\"").unwrap_err();
        assert!(
            error.to_string().contains("no file declares package ctem; found acme"),
            "{error}"
        );
    }

    #[test]
    fn runtime_error_names_the_finding() {
        let policy = policy(
            r#"package ctem
tier := {"tier": input.tool, "reason": "the tool is no tier"} if input.kind == "secret""#,
        )
        .unwrap();
        let (scored, asset) = scored();
        let error = policy.decide(&finding_input(&scored, Some(&asset))).unwrap_err();
        let message = error.to_string();
        assert!(message.contains(&scored.fingerprint.to_string()), "{message}");
        assert!(message.contains("got tier \"gitleaks\""), "{message}");
    }

    #[test]
    fn tier_reason_must_be_a_string() {
        let dir = tempfile::tempdir().unwrap();
        let (scored, asset) = scored();
        let input = finding_input(&scored, Some(&asset));

        let number = write_policy(
            dir.path(),
            "number.rego",
            "package ctem\ntier := {\"tier\": \"P1\", \"reason\": 5}\n",
        );
        let error = FindingPolicy::load(&[number]).unwrap().decide(&input).unwrap_err();
        let text = error.to_string();
        assert!(text.contains("the reason 5 is not a string"), "{text}");
        assert!(text.contains(&scored.fingerprint.to_string()), "{text}");

        let missing = write_policy(dir.path(), "missing.rego", "package ctem\ntier := {\"tier\": \"P1\"}\n");
        let error = FindingPolicy::load(&[missing]).unwrap().decide(&input).unwrap_err();
        let text = error.to_string();
        assert!(text.contains("the reason is missing"), "{text}");

        let empty = write_policy(
            dir.path(),
            "empty.rego",
            "package ctem\ntier := {\"tier\": \"P1\", \"reason\": \" \"}\n",
        );
        let error = FindingPolicy::load(&[empty]).unwrap().decide(&input).unwrap_err();
        let text = error.to_string();
        assert!(text.contains("the reason is empty"), "{text}");
    }

    /// An empty acceptance or raise reason is an error: an accepted finding
    /// leaves `ctem actions`, and its reason is the only record of why.
    #[test]
    fn empty_policy_reasons_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let (scored, asset) = scored();
        let input = finding_input(&scored, Some(&asset));
        for (name, text) in [
            ("accept.rego", "package ctem\naccept := \"\"\n"),
            ("raise.rego", "package ctem\nraise contains \"\\t\"\n"),
        ] {
            let path = write_policy(dir.path(), name, text);
            let error = FindingPolicy::load(&[path]).unwrap().decide(&input).unwrap_err();
            let message = error.to_string();
            assert!(message.contains("has an empty reason"), "{name}: {message}");
            assert!(message.contains(&scored.fingerprint.to_string()), "{name}: {message}");
        }
    }

    #[test]
    fn conflicting_values_are_an_evaluation_error() {
        let policy = policy(
            r#"package ctem
accept := "a" if input.kind == "secret"
accept := "b" if input.tool == "gitleaks""#,
        )
        .unwrap();
        let (scored, asset) = scored();
        let error = policy.decide(&finding_input(&scored, Some(&asset))).unwrap_err();
        assert!(matches!(error, PolicyError::Evaluate { .. }), "{error}");
        assert!(error.to_string().contains("org.rego"), "{error}");
    }

    #[test]
    fn invalid_utf8_names_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("org.rego");
        std::fs::write(&path, b"package ctem\n# caf\xc3\xa9 \xff\nraise := \"x\"\n").unwrap();

        let error = FindingPolicy::load(&[path]).unwrap_err();

        assert!(matches!(error, PolicyError::Invalid { .. }), "{error}");
        assert!(error.to_string().contains("org.rego"), "{error}");
        assert!(error.to_string().contains("line 2, column 8: invalid UTF-8"), "{error}");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn endless_device_stops_at_size_limit() {
        let error = FindingPolicy::load(&[PathBuf::from("/dev/zero")]).unwrap_err();

        assert!(matches!(error, PolicyError::Invalid { .. }), "{error}");
        assert!(error.to_string().contains("more than"), "{error}");
    }

    #[test]
    fn nesting_limit_counts_code_only() {
        let nested = |depth: usize| format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
        let text = format!(
            "package ctem\n# {comment}\nlabel := \"{string}\"\nraw := `{string}\n`\nvalue := {value}\n",
            comment = "[".repeat(40),
            string = "{".repeat(40),
            value = nested(MAX_BRACKET_DEPTH - 1),
        );
        assert!(policy(&text).is_ok());

        let text = format!("package ctem\n\nvalue := {{\"a\": {}}}\n", nested(MAX_BRACKET_DEPTH));
        let error = policy(&text).unwrap_err();
        assert!(matches!(error, PolicyError::Compile { .. }), "{error}");
        // `{` opens at column 10 and the 16 brackets after it at 16 to 31.
        assert!(error.to_string().contains("org.rego:3:31: "), "{error}");
    }

    #[test]
    fn long_operator_chain_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let chain = |terms: usize| format!("package ctem\n\nvalue := (1\n{})\n", "+ 1\n".repeat(terms - 1));

        let longest = write_policy(dir.path(), "longest.rego", &chain(MAX_EXPRESSION_OPERATORS + 1));
        let policy = FindingPolicy::load(&[longest]).unwrap();
        let package = eval_package(
            &mut policy.engine.clone(),
            FINDING_PACKAGE,
            &json!({}),
            "",
            POLICY_TIME_LIMIT,
        );
        assert_eq!(package.unwrap()["value"], json!(MAX_EXPRESSION_OPERATORS + 1));

        // Without the limit, this chain overflowed the stack of the process.
        let long = write_policy(dir.path(), "long.rego", &chain(15_000));
        let error = FindingPolicy::load(&[long]).unwrap_err();
        assert!(matches!(error, PolicyError::Compile { .. }), "{error}");
        let text = error.to_string();
        // The chain's operator number 1,001 starts line 1,004.
        assert!(text.contains("long.rego:1004:1: "), "{text}");
        assert!(text.contains("more than 1000 operators"), "{text}");
    }

    #[test]
    fn too_many_rules_are_rejected() {
        // A chain of rules that read each other, one rule past the limit.
        let chain = |rules: usize| {
            let mut text = String::from("package ctem\n\n");
            for index in 0..rules - 1 {
                text.push_str(&format!("r{index} := r{} + 1\n", index + 1));
            }
            text.push_str(&format!("r{} := 0\n", rules - 1));
            text
        };
        let error = policy(&chain(MAX_POLICY_RULES + 1)).unwrap_err().to_string();
        assert!(error.contains("define 1001 rules; at most 1000"), "{error}");
        // Short of the limit, the same kind of chain loads.
        assert!(policy(&chain(50)).is_ok());
    }

    #[test]
    fn deep_brackets_share_one_budget() {
        let line = |depth: usize| format!("v := {}1{}\n", "[".repeat(depth), "]".repeat(depth));
        // A line of brackets 14 deep costs just under 2^15: 8 lines load, 9
        // do not.
        let body = |lines: usize| {
            (0..lines)
                .map(|index| line(14).replace("v ", &format!("v{index} ")))
                .collect::<String>()
        };
        let fits = policy(&format!("package ctem\n\n{}", body(8)));
        assert!(fits.is_ok(), "{:?}", fits.err().map(|error| error.to_string()));
        let error = policy(&format!("package ctem\n\n{}", body(9))).unwrap_err().to_string();
        assert!(error.contains("brackets nest deeply too often"), "{error}");
        assert!(error.contains("org.rego:11:"), "{error}");
        // Shallow brackets, as real policies write them, stay far below.
        let shallow = (0..2_000)
            .map(|index| format!("s{index} := [{{\"a\": [1]}}]\n"))
            .collect::<String>();
        let error = policy(&format!("package ctem\n\n{shallow}")).unwrap_err().to_string();
        assert!(!error.contains("brackets"), "{error}");
    }

    #[test]
    fn operator_limit_counts_each_expression() {
        // Each statement starts a new expression, so 600 statements of two
        // operators load.
        let statements = "  n + 1 > 0\n".repeat(600);
        let text = format!("package ctem\n\nraise := \"x\" if {{\n  n := 1\n{statements}}}\n");
        assert!(policy(&text).is_ok());

        // A unary minus nests like a bracket in the parser, but the parser
        // reads `-1` as one number, so negative numbers do not count.
        let product = vec!["-1"; 40].join(" * ");
        assert!(policy(&format!("package ctem\n\nvalue := 1 - -1 + ({product})\n")).is_ok());
        // The sign number 17 is on line 19, after `(` on line 3.
        let signs = "-\n".repeat(2_000);
        let error = policy(&format!("package ctem\n\nvalue := 1 - ({signs}1)\n")).unwrap_err();
        assert!(error.to_string().contains("org.rego:19:1: "), "{error}");
        assert!(error.to_string().contains("more than 16 unary minus signs"), "{error}");

        // A call in a chain does not end it, and neither does a bracket.
        let terms = vec!["abs(1) + (1 - 1) * [1][0]"; 300].join(" + ");
        let error = policy(&format!("package ctem\n\nvalue := {terms}\n")).unwrap_err();
        assert!(matches!(error, PolicyError::Compile { .. }), "{error}");
        assert!(error.to_string().contains("more than 1000 operators"), "{error}");
    }

    #[test]
    fn huge_line_error_is_clipped() {
        // An array, because a sum this long would pass the operator limit
        // before the parser quotes the line.
        let items = vec!["1"; 200_000].join(", ");
        let error = policy(&format!("package ctem\n\nraise := \"x\" if {{ x := [{items}, }}\n")).unwrap_err();
        let text = error.to_string();
        assert!(matches!(error, PolicyError::Compile { .. }), "{text}");
        assert!(text.contains("org.rego:3:"), "{text}");
        assert!(text.contains(" [...]"), "{text}");
        assert!(text.len() < 2_000, "{} bytes", text.len());
        assert!(text.lines().all(|line| line.chars().count() <= MAX_QUOTED_LINE + 6));
    }

    #[test]
    fn endless_evaluation_times_out() {
        // The load evaluates each package once with an empty input, where
        // `input.new` and `input.fingerprint` are undefined and the loop
        // does not run.
        let slow = "some x in numbers.range(1, 100000); some y in numbers.range(1, 100000); x + y < 0";
        let gate = GatePolicy::from_sources(vec![(
            "slow.rego".to_string(),
            format!("package ctem.gate\n\ndeny contains \"never\" if {{ input.new; {slow} }}\n"),
        )])
        .unwrap()
        .with_time_limit(Duration::from_millis(200));
        let error = gate.deny(Vec::new(), Vec::new()).unwrap_err();
        assert!(matches!(error, PolicyError::Evaluate { .. }), "{error}");
        let text = error.to_string();
        assert!(text.contains("slow.rego"), "{text}");
        assert!(text.contains("took longer than 0.2 s"), "{text}");

        let finding = policy(&format!(
            "package ctem\n\nraise := \"x\" if {{ input.fingerprint; {slow} }}\n"
        ))
        .unwrap()
        .with_time_limit(Duration::from_millis(200));
        let error = finding.decide(&json!({"fingerprint": "abc"})).unwrap_err();
        let text = error.to_string();
        assert!(text.contains("org.rego"), "{text}");
        assert!(text.contains("abc"), "{text}");
        assert!(text.contains("took longer than 0.2 s"), "{text}");
    }

    fn write_policy(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn recursive_function_is_rejected_at_load() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_policy(
            dir.path(),
            "self.rego",
            "package ctem\n\nf(x) := f(x) if true\n\nraise contains \"x\" if f(1)\n",
        );

        let error = FindingPolicy::load(&[path]).unwrap_err();

        assert!(matches!(error, PolicyError::Invalid { .. }), "{error}");
        let text = error.to_string();
        assert!(text.contains("self.rego: line 3: "), "{text}");
        assert!(
            text.contains("function data.ctem.f is recursive: data.ctem.f -> data.ctem.f"),
            "{text}"
        );
    }

    #[test]
    fn mutual_recursion_is_rejected_in_gate() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_policy(
            dir.path(),
            "gate.rego",
            "package ctem.gate\n\nf(x) := g(x)\n\ng(x) := y if {\n  y := data.ctem.gate.f(x) + 1\n}\n\n\
             deny contains \"x\" if f(1)\n",
        );

        let error = GatePolicy::load(&path).unwrap_err();

        let text = error.to_string();
        assert!(text.contains("gate.rego: line 3: "), "{text}");
        assert!(
            text.contains(
                "function data.ctem.gate.f is recursive: data.ctem.gate.f -> data.ctem.gate.g -> data.ctem.gate.f"
            ),
            "{text}"
        );
    }

    #[test]
    fn recursion_across_files_and_imports_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let lib = write_policy(
            dir.path(),
            "lib.rego",
            "package lib.text\n\nimport data.ctem\n\nshout(s) := ctem.loud(s)\n",
        );
        let org = write_policy(
            dir.path(),
            "org.rego",
            "package ctem\n\nimport data.lib.text as t\n\nloud(s) := t.shout(s)\n\nraise := loud(\"x\") if input.kind\n",
        );

        let error = FindingPolicy::load(&[lib, org]).unwrap_err();

        let text = error.to_string();
        assert!(text.contains("org.rego: line 5: "), "{text}");
        assert!(
            text.contains("data.ctem.loud -> data.lib.text.shout -> data.ctem.loud"),
            "{text}"
        );
    }

    #[test]
    fn functions_that_call_each_other_once_load() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_policy(
            dir.path(),
            "org.rego",
            "package ctem\n\nlabel(x) := upper(trim(x, \" \"))\n\nowner := label(input.asset.owner)\n\n\
             f(x) := label(x)\n\ng(x) := f(x)\n\nraise := g(input.asset.owner) if input.kind == \"secret\"\n",
        );

        let policy = FindingPolicy::load(&[path]).unwrap();

        let decision = policy
            .decide(&json!({"kind": "secret", "asset": {"owner": " payments "}}))
            .unwrap();
        assert_eq!(decision.raise, vec!["PAYMENTS".to_string()]);
    }

    /// Organization rules often read dates, networks and versions, so the
    /// time, net and semver built-ins are there. The error for one that the
    /// engine lacks lists the groups it has, so it does not read like a typo.
    #[test]
    fn time_net_semver_builtins_load() {
        let gate = GatePolicy::from_sources(vec![(
            "gate.rego".to_string(),
            "package ctem.gate\n\ndeny contains \"old\" if {\n  time.parse_rfc3339_ns(\"2020-01-01T00:00:00Z\") \
             < time.now_ns()\n  net.cidr_contains(\"203.0.113.0/24\", \"203.0.113.10\")\n  \
             semver.compare(\"2.10.1\", \"2.9.10\") == 1\n  base64.encode(\"x\") == \"eA==\"\n}\n"
                .to_string(),
        )])
        .unwrap();
        let denied = gate.deny(Vec::new(), Vec::new()).unwrap();
        assert_eq!(denied, ["old"]);

        let Err(error) = GatePolicy::from_sources(vec![(
            "hash.rego".to_string(),
            "package ctem.gate\n\ndeny contains \"x\" if {\n  crypto.sha256(\"a\") == \"b\"\n}\n".to_string(),
        )]) else {
            panic!("crypto.sha256 is not a built-in of ctem's engine");
        };
        let text = error.to_string();
        assert!(text.contains("could not find function crypto.sha256"), "{text}");
        assert!(text.contains("but not crypto, io.jwt"), "{text}");
    }

    #[test]
    fn empty_gate_message_rejected() {
        let gate = GatePolicy::from_sources(vec![(
            "gate.rego".to_string(),
            "package ctem.gate\n\ndeny contains \" \" if input.findings\n".to_string(),
        )])
        .unwrap();
        let error = gate.deny(Vec::new(), Vec::new()).unwrap_err().to_string();
        assert!(error.contains("data.ctem.gate.deny has an empty message"), "{error}");
    }

    #[test]
    fn policy_paths_drop_repeats() {
        let files = [
            PathBuf::from("a.rego"),
            PathBuf::from("b.rego"),
            PathBuf::from("a.rego"),
        ];
        let paths = policy_paths(&files, Path::new("acme"));
        assert_eq!(paths, [Path::new("acme/a.rego"), Path::new("acme/b.rego")]);
    }

    #[test]
    fn timeout_at_load_says_no_finding_ran() {
        let slow = "some x in numbers.range(1, 100000); some y in numbers.range(1, 100000); x + y < 0";
        let sources = vec![(
            "slow.rego".to_string(),
            format!("package ctem\n\nraise := \"x\" if {{ {slow} }}\n"),
        )];

        let error = FindingPolicy::from_sources_with_time_limit(sources, Duration::from_millis(200)).unwrap_err();

        assert!(matches!(error, PolicyError::Evaluate { .. }), "{error}");
        let text = error.to_string();
        assert!(text.contains("slow.rego while checking it at load"), "{text}");
        assert!(text.contains("before any finding"), "{text}");
        assert!(text.contains("took longer than 0.2 s"), "{text}");
    }

    /// A gate whose deny rule is missing or misspelled is an error, not a
    /// gate that passes every run. A deny rule that matches nothing, or a
    /// default, is a gate.
    #[test]
    fn gate_without_deny_rule_is_rejected() {
        for text in [
            "package ctem.gate\n\ndenny contains \"x\" if true\n",
            "package ctem.gate\n\nallow := true\n",
            "package ctem.gate\n\ndeny(x) := true\n",
            "package ctem.gate.deny\n\nx := 1\n\npackage_guard := true\n",
        ] {
            let error = GatePolicy::from_sources(vec![("gate.rego".to_string(), text.to_string())]);
            let message = match error {
                Ok(_) => String::new(),
                Err(error) => error.to_string(),
            };
            assert!(
                message.contains("defines no deny rule") || message.contains("no file declares"),
                "{text:?} gave {message:?}"
            );
        }
        for text in [
            "package ctem.gate\n\ndeny contains \"x\" if false\n",
            "package ctem.gate\n\ndefault deny := []\n",
        ] {
            let gate = GatePolicy::from_sources(vec![("gate.rego".to_string(), text.to_string())]);
            assert!(
                gate.is_ok(),
                "{text:?} gave {:?}",
                gate.err().map(|error| error.to_string())
            );
        }
    }

    #[test]
    fn byte_order_mark_and_nul() {
        let with_mark = policy("\u{feff}package ctem\n\nraise contains \"x\" if input.kind == \"secret\"\n");
        assert!(
            with_mark.is_ok(),
            "{:?}",
            with_mark.err().map(|error| error.to_string())
        );

        let error = policy(
            "package ctem\n\nraise := \"a\\0b\" if true\n"
                .replace("\\0", "\0")
                .as_str(),
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("org.rego:3:12: a NUL character"), "{error}");
    }

    #[test]
    fn gate_returns_sorted_messages() {
        let gate = GatePolicy::from_sources(vec![(
            "gate.rego".to_string(),
            r#"package ctem.gate
deny contains sprintf("new %s finding %s", [f.tier, f.rule_id]) if {
  some f in input.new
  f.tier == "P1"
}"#
            .to_string(),
        )])
        .unwrap();
        let new = vec![
            json!({"tier": "P1", "rule_id": "b"}),
            json!({"tier": "P2", "rule_id": "c"}),
            json!({"tier": "P1", "rule_id": "a"}),
        ];
        assert_eq!(
            gate.deny(Vec::new(), new).unwrap(),
            vec!["new P1 finding a".to_string(), "new P1 finding b".to_string()]
        );
        assert!(gate.deny(Vec::new(), Vec::new()).unwrap().is_empty());
    }
}
