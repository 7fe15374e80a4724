//! Static detection of recursive functions in loaded policies.
//!
//! regorus 0.14.1 detects recursive rules when it evaluates them, but not
//! recursive functions, and it has no limit on the call depth: a function
//! that calls itself, directly or through others, overflows the stack and
//! aborts the process. OPA rejects such policies when it compiles them
//! (`rego_recursion_error`), and [`check_recursion`] does the same when a
//! policy loads.
//!
//! The check walks the syntax tree that regorus parsed, through
//! `Engine::get_modules` and the types of `regorus::unstable`. Both are
//! hidden from the regorus 0.14.1 docs and may change in a later version.
//! Serializing the tree with the `ast` feature instead would recurse once per
//! level of an expression and, in a debug build, overflow a 2 MiB stack on a
//! chain of 500 additions, which the evaluation itself handles.

use std::collections::{BTreeMap, BTreeSet};

use regorus::unstable::{Expr, Literal, Module, Query, Rule, RuleHead};
use regorus::{Engine, Value};

use super::PolicyError;

/// A function of the loaded policies, under its full path (`data.ctem.f`).
struct Function {
    /// The file and the line of its first definition.
    file: String,
    line: u64,
    /// The paths of the functions that its definitions call.
    calls: BTreeSet<String>,
}

/// A function definition before its calls are resolved to paths.
struct Definition {
    path: String,
    file: String,
    line: u64,
    /// The package that declares it, as path segments (`data`, `ctem`).
    package: Vec<String>,
    /// The module's imports: each name that an import binds, and the path it
    /// imports.
    imports: BTreeMap<String, Vec<String>>,
    /// Each call, as the segments of the called reference (`f`, `util.f`,
    /// `data.ctem.f`).
    calls: Vec<Vec<String>>,
}

/// Rejects policies in which a function calls itself, directly or through
/// other functions. The error names the file and the line of the function
/// where the cycle starts, and the cycle.
pub(super) fn check_recursion(engine: &mut Engine) -> Result<(), PolicyError> {
    let definitions: Vec<Definition> = engine
        .get_modules()
        .iter()
        .flat_map(|module| module_definitions(module))
        .collect();

    let mut functions: BTreeMap<String, Function> = BTreeMap::new();
    for definition in &definitions {
        functions.entry(definition.path.clone()).or_insert_with(|| Function {
            file: definition.file.clone(),
            line: definition.line,
            calls: BTreeSet::new(),
        });
    }
    for definition in &definitions {
        let calls: Vec<String> = definition
            .calls
            .iter()
            .filter_map(|call| resolve_call(call, definition, &functions))
            .collect();
        if let Some(function) = functions.get_mut(&definition.path) {
            function.calls.extend(calls);
        }
    }

    match find_cycle(&functions) {
        None => Ok(()),
        Some(cycle) => {
            let function = &functions[&cycle[0]];
            Err(PolicyError::Invalid {
                path: function.file.clone(),
                message: format!(
                    "line {}: function {} is recursive: {}. Rego does not allow recursion, so rewrite it \
                     with a comprehension over the data it visits",
                    function.line,
                    cycle[0],
                    cycle.join(" -> ")
                ),
            })
        }
    }
}

/// Lists the function definitions of one module.
fn module_definitions(module: &Module) -> Vec<Definition> {
    let Some(mut package) = ref_path(&module.package.refr) else {
        return Vec::new();
    };
    package.insert(0, "data".to_string());

    let mut imports = BTreeMap::new();
    for import in &module.imports {
        let Some(path) = ref_path(&import.refr) else {
            continue;
        };
        // `import data.lib.util as u` binds `u`, and without `as` an import
        // binds its last segment.
        let alias = match &import.r#as {
            Some(span) => Some(span.text().to_string()),
            None => path.last().cloned(),
        };
        if let Some(alias) = alias {
            imports.insert(alias, path);
        }
    }

    let mut definitions = Vec::new();
    for rule in &module.policy {
        let Rule::Spec { head, bodies, .. } = rule.as_ref() else {
            continue;
        };
        let RuleHead::Func {
            span,
            refr,
            args,
            assign,
        } = head
        else {
            continue;
        };
        let Some(name) = ref_path(refr) else {
            continue;
        };
        let mut pending: Vec<Node<'_>> = args.iter().map(|arg| Node::Expr(arg)).collect();
        pending.extend(assign.iter().map(|assign| Node::Expr(&assign.value)));
        for body in bodies {
            pending.extend(body.assign.iter().map(|assign| Node::Expr(&assign.value)));
            pending.push(Node::Query(&body.query));
        }
        definitions.push(Definition {
            path: package.iter().chain(&name).cloned().collect::<Vec<_>>().join("."),
            file: span.source.file().clone(),
            line: u64::from(span.line),
            package: package.clone(),
            imports: imports.clone(),
            calls: find_calls(pending),
        });
    }
    definitions
}

/// Returns the segments of a reference such as `data.ctem.f`, `f` or
/// `lib["f"]`, or `None` when a segment is not a name or a string.
pub(super) fn ref_path(mut expr: &Expr) -> Option<Vec<String>> {
    let mut segments = Vec::new();
    loop {
        match expr {
            Expr::Var { value, .. } => {
                segments.push(string_value(value)?);
                break;
            }
            Expr::RefDot { refr, field, .. } => {
                segments.push(string_value(&field.1)?);
                expr = refr;
            }
            Expr::RefBrack { refr, index, .. } => {
                let (Expr::String { value, .. } | Expr::RawString { value, .. }) = index.as_ref() else {
                    return None;
                };
                segments.push(string_value(value)?);
                expr = refr;
            }
            _ => return None,
        }
    }
    segments.reverse();
    Some(segments)
}

fn string_value(value: &Value) -> Option<String> {
    value.as_string().ok().map(|text| text.to_string())
}

/// A node of the syntax tree that may contain calls.
enum Node<'a> {
    Expr(&'a Expr),
    Query(&'a Query),
}

/// Collects the references that the given nodes call, at any depth. The
/// walk keeps its own stack, so a deep expression does not deepen the call
/// stack.
fn find_calls(mut pending: Vec<Node<'_>>) -> Vec<Vec<String>> {
    let mut calls = Vec::new();
    while let Some(node) = pending.pop() {
        let expr = match node {
            Node::Expr(expr) => expr,
            Node::Query(query) => {
                for statement in &query.stmts {
                    for modifier in &statement.with_mods {
                        pending.push(Node::Expr(&modifier.refr));
                        pending.push(Node::Expr(&modifier.r#as));
                    }
                    match &statement.literal {
                        Literal::SomeVars { .. } => {}
                        Literal::SomeIn {
                            key, value, collection, ..
                        } => {
                            pending.extend(key.iter().map(|key| Node::Expr(key)));
                            pending.push(Node::Expr(value));
                            pending.push(Node::Expr(collection));
                        }
                        Literal::Expr { expr, .. } | Literal::NotExpr { expr, .. } => pending.push(Node::Expr(expr)),
                        Literal::Every { domain, query, .. } => {
                            pending.push(Node::Expr(domain));
                            pending.push(Node::Query(query));
                        }
                    }
                }
                continue;
            }
        };
        match expr {
            Expr::Call { fcn, params, .. } => {
                if let Some(path) = ref_path(fcn) {
                    calls.push(path);
                }
                pending.push(Node::Expr(fcn));
                pending.extend(params.iter().map(|param| Node::Expr(param)));
            }
            Expr::Array { items, .. } | Expr::Set { items, .. } => {
                pending.extend(items.iter().map(|item| Node::Expr(item)));
            }
            Expr::Object { fields, .. } => {
                for (_, key, value) in fields {
                    pending.push(Node::Expr(key));
                    pending.push(Node::Expr(value));
                }
            }
            Expr::ArrayCompr { term, query, .. } | Expr::SetCompr { term, query, .. } => {
                pending.push(Node::Expr(term));
                pending.push(Node::Query(query));
            }
            Expr::ObjectCompr { key, value, query, .. } => {
                pending.push(Node::Expr(key));
                pending.push(Node::Expr(value));
                pending.push(Node::Query(query));
            }
            Expr::UnaryExpr { expr, .. } | Expr::RefDot { refr: expr, .. } => pending.push(Node::Expr(expr)),
            Expr::RefBrack { refr, index, .. } => {
                pending.push(Node::Expr(refr));
                pending.push(Node::Expr(index));
            }
            Expr::BinExpr { lhs, rhs, .. }
            | Expr::BoolExpr { lhs, rhs, .. }
            | Expr::ArithExpr { lhs, rhs, .. }
            | Expr::AssignExpr { lhs, rhs, .. } => {
                pending.push(Node::Expr(lhs));
                pending.push(Node::Expr(rhs));
            }
            Expr::Membership {
                key, value, collection, ..
            } => {
                pending.extend(key.iter().map(|key| Node::Expr(key)));
                pending.push(Node::Expr(value));
                pending.push(Node::Expr(collection));
            }
            // NOTE: scalars and variables contain no calls. A variant added
            // after regorus 0.14.1 also lands here, so its calls would be
            // missed.
            _ => {}
        }
    }
    calls
}

/// Resolves a called reference to the path of a function of the policies:
/// a `data.` path is itself, a name defined in the calling package is that
/// package's function, and an imported name is resolved through its import.
/// Returns `None` for built-ins and other calls outside the policies.
fn resolve_call(call: &[String], caller: &Definition, functions: &BTreeMap<String, Function>) -> Option<String> {
    let path = if call.first().is_some_and(|first| first == "data") {
        call.join(".")
    } else {
        let local = caller.package.iter().chain(call).cloned().collect::<Vec<_>>().join(".");
        if functions.contains_key(&local) {
            local
        } else {
            let imported = caller.imports.get(call.first()?)?;
            imported.iter().chain(&call[1..]).cloned().collect::<Vec<_>>().join(".")
        }
    };
    functions.contains_key(&path).then_some(path)
}

/// Returns the first cycle of calls, in the order of the functions' paths,
/// as the paths along it with the first repeated at the end. The depth-first
/// search keeps its own stack, so a long chain of calls does not overflow
/// the call stack.
fn find_cycle(functions: &BTreeMap<String, Function>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        Visiting,
        Done,
    }
    let mut states: BTreeMap<&str, State> = BTreeMap::new();
    for start in functions.keys() {
        if states.contains_key(start.as_str()) {
            continue;
        }
        // Each entry is a function on the current path and its callees not
        // yet visited.
        let mut path: Vec<(&str, std::collections::btree_set::Iter<'_, String>)> =
            vec![(start.as_str(), functions[start].calls.iter())];
        states.insert(start, State::Visiting);
        while let Some((current, callees)) = path.last_mut() {
            let current = *current;
            match callees.next() {
                Some(callee) => match states.get(callee.as_str()) {
                    Some(State::Visiting) => {
                        let position = path.iter().position(|(name, _)| *name == callee).expect("on the path");
                        let mut cycle: Vec<String> =
                            path[position..].iter().map(|(name, _)| name.to_string()).collect();
                        cycle.push(callee.clone());
                        return Some(cycle);
                    }
                    Some(State::Done) => {}
                    None => {
                        states.insert(callee, State::Visiting);
                        path.push((callee.as_str(), functions[callee].calls.iter()));
                    }
                },
                None => {
                    states.insert(current, State::Done);
                    path.pop();
                }
            }
        }
    }
    None
}
