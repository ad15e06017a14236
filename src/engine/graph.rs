//! The stack as a dependency graph, and a scheduler that runs it.
//!
//! A node starts as soon as every node it needs has succeeded, never later:
//! the distribution can be created while the ALB is still provisioning, so
//! `up` takes about as long as its critical path of AWS waits. Independent
//! branches run at the same time; a failure skips only what depends on it.
//! Teardown runs the reversed graph: a node goes once all its dependents are
//! gone.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Graph {
    /// Node -> the nodes it needs.
    needs: BTreeMap<String, BTreeSet<String>>,
    /// The nodes in the order they were added (`order` keeps it where the
    /// edges allow).
    added: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    #[error("{node} needs {missing}, which is not part of the stack")]
    Missing { node: String, missing: String },
    #[error("dependency cycle: {}", cycle.join(" -> "))]
    Cycle { cycle: Vec<String> },
}

/// How one node ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome<E> {
    Done,
    Failed(E),
    /// Not started because a node it needs failed (named here).
    Skipped {
        because: String,
    },
}

impl Graph {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, node: &str, needs: &[&str]) {
        let before = self
            .needs
            .insert(node.to_string(), needs.iter().map(|n| n.to_string()).collect());
        if before.is_none() {
            self.added.push(node.to_string());
        }
    }

    pub fn nodes(&self) -> impl Iterator<Item = &str> {
        self.needs.keys().map(String::as_str)
    }

    /// Every dependency exists and there is no cycle.
    pub fn check(&self) -> Result<(), GraphError> {
        for (node, needs) in &self.needs {
            if let Some(missing) = needs.iter().find(|n| !self.needs.contains_key(*n)) {
                return Err(GraphError::Missing {
                    node: node.clone(),
                    missing: missing.clone(),
                });
            }
        }
        // Depth-first search; a node met again while on the path closes a cycle.
        let mut done = BTreeSet::new();
        for start in self.needs.keys() {
            let mut path = Vec::new();
            self.visit(start, &mut path, &mut done)?;
        }
        Ok(())
    }

    fn visit<'a>(
        &'a self,
        node: &'a str,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Result<(), GraphError> {
        if done.contains(node) {
            return Ok(());
        }
        if let Some(at) = path.iter().position(|n| *n == node) {
            let mut cycle: Vec<String> = path[at..].iter().map(|n| n.to_string()).collect();
            cycle.push(node.to_string());
            return Err(GraphError::Cycle { cycle });
        }
        path.push(node);
        for next in &self.needs[node] {
            self.visit(next, path, done)?;
        }
        path.pop();
        done.insert(node);
        Ok(())
    }

    /// Every node after what it needs (the order a sequential walk such as
    /// `plan` takes; `run` follows the same edges concurrently): passes over
    /// the nodes in the order they were added, each taking every node whose
    /// needs are done. Nodes in a cycle, which `check` refuses, come last.
    pub fn order(&self) -> Vec<&str> {
        let mut done: BTreeSet<&str> = BTreeSet::new();
        let mut out = Vec::new();
        while out.len() < self.added.len() {
            let before = out.len();
            for node in &self.added {
                if !done.contains(node.as_str()) && self.needs[node].iter().all(|d| done.contains(d.as_str()))
                {
                    done.insert(node);
                    out.push(node.as_str());
                }
            }
            if out.len() == before {
                break;
            }
        }
        out.extend(
            self.added
                .iter()
                .map(String::as_str)
                .filter(|n| !done.contains(n)),
        );
        out
    }

    /// The graph with every edge turned round: for teardown.
    pub fn reversed(&self) -> Graph {
        let mut needs: BTreeMap<String, BTreeSet<String>> =
            self.needs.keys().map(|n| (n.clone(), BTreeSet::new())).collect();
        for (node, deps) in &self.needs {
            for dep in deps {
                if let Some(set) = needs.get_mut(dep) {
                    set.insert(node.clone());
                }
            }
        }
        Graph {
            needs,
            added: self.added.clone(),
        }
    }

    fn dependents(&self) -> BTreeMap<&str, Vec<&str>> {
        let mut out: BTreeMap<&str, Vec<&str>> =
            self.needs.keys().map(|n| (n.as_str(), Vec::new())).collect();
        for (node, deps) in &self.needs {
            for dep in deps {
                out.entry(dep.as_str()).or_default().push(node.as_str());
            }
        }
        out
    }

    /// Runs `work` for every node, at most `limit` at once, each as soon as
    /// what it needs has succeeded. Call `check` first: nodes in a cycle
    /// never become ready and are reported as skipped.
    pub async fn run<E, F, Fut>(&self, limit: usize, work: F) -> BTreeMap<String, Outcome<E>>
    where
        F: Fn(String) -> Fut,
        Fut: Future<Output = Result<(), E>>,
    {
        let dependents = self.dependents();
        let mut waiting_on: BTreeMap<&str, usize> =
            self.needs.iter().map(|(n, d)| (n.as_str(), d.len())).collect();
        let mut ready: BTreeSet<&str> = waiting_on
            .iter()
            .filter(|(_, c)| **c == 0)
            .map(|(n, _)| *n)
            .collect();
        let mut outcomes: BTreeMap<String, Outcome<E>> = BTreeMap::new();
        let mut running = FuturesUnordered::new();
        loop {
            while running.len() < limit.max(1) {
                let Some(node) = ready.pop_first() else { break };
                let future = work(node.to_string());
                running.push(async move { (node, future.await) });
            }
            let Some((node, result)) = running.next().await else {
                break;
            };
            match result {
                Ok(()) => {
                    outcomes.insert(node.to_string(), Outcome::Done);
                    for next in &dependents[node] {
                        let count = waiting_on.get_mut(next).expect("every node is counted");
                        *count -= 1;
                        if *count == 0 && !outcomes.contains_key(*next) {
                            ready.insert(next);
                        }
                    }
                }
                Err(e) => {
                    outcomes.insert(node.to_string(), Outcome::Failed(e));
                    // Everything downstream is skipped, naming the root cause.
                    let mut stack = dependents[node].clone();
                    while let Some(next) = stack.pop() {
                        if outcomes.contains_key(next) {
                            continue;
                        }
                        outcomes.insert(
                            next.to_string(),
                            Outcome::Skipped {
                                because: node.to_string(),
                            },
                        );
                        ready.remove(next);
                        stack.extend(dependents[next].iter().copied());
                    }
                }
            }
        }
        for node in self.needs.keys() {
            outcomes.entry(node.clone()).or_insert_with(|| Outcome::Skipped {
                because: "a dependency cycle".into(),
            });
        }
        outcomes
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::time::Duration;

    use tokio::time::Instant;

    use super::*;

    #[test]
    fn order_puts_every_node_after_what_it_needs() {
        let mut g = Graph::new();
        g.add("distribution", &["cache_policy", "edge_function"]);
        g.add("edge_function", &["edge_role"]);
        g.add("edge_role", &[]);
        g.add("cache_policy", &[]);
        let order = g.order();
        let at = |n: &str| order.iter().position(|o| *o == n).unwrap();
        assert_eq!(order.len(), 4);
        assert!(at("edge_role") < at("edge_function"));
        assert!(at("edge_function") < at("distribution") && at("cache_policy") < at("distribution"));
        g.add("a", &["b"]);
        g.add("b", &["a"]);
        assert_eq!(&g.order()[4..], ["a", "b"], "a cycle comes last");
        let mut g = Graph::new();
        g.add("z", &[]);
        g.add("b", &["z"]);
        g.add("a", &[]);
        assert_eq!(
            g.order(),
            ["z", "b", "a"],
            "the order nodes were added, where the edges allow"
        );
    }

    /// The stack's shape, in miniature.
    fn stack() -> Graph {
        let mut g = Graph::new();
        g.add("vpc", &[]);
        g.add("alb", &["vpc"]);
        g.add("service", &["alb"]);
        g.add("edge_function", &[]);
        g.add("distribution", &["alb", "edge_function"]);
        g
    }

    #[test]
    fn missing_dependencies_and_cycles_are_named() {
        let mut g = stack();
        g.add("listener", &["alb", "certificate"]);
        assert_eq!(
            g.check().unwrap_err().to_string(),
            "listener needs certificate, which is not part of the stack"
        );
        let mut g = Graph::new();
        g.add("a", &["b"]);
        g.add("b", &["c"]);
        g.add("c", &["a"]);
        assert_eq!(
            g.check().unwrap_err().to_string(),
            "dependency cycle: a -> b -> c -> a"
        );
        assert_eq!(stack().check(), Ok(()));
    }

    #[tokio::test(start_paused = true)]
    async fn a_node_starts_as_soon_as_what_it_needs_is_done() {
        // vpc 10 s, alb 100 s (provisioning), edge function 20 s, the
        // distribution 250 s once the ALB *exists* (its DNS name), the
        // service 120 s. The distribution does not wait for the service.
        let g = stack();
        let started = Instant::now();
        let starts = RefCell::new(BTreeMap::new());
        let outcomes = g
            .run(8, |node| {
                starts
                    .borrow_mut()
                    .insert(node.clone(), started.elapsed().as_secs());
                async move {
                    let secs = match node.as_str() {
                        "vpc" => 10,
                        "alb" => 100,
                        "edge_function" => 20,
                        "distribution" => 250,
                        _ => 120,
                    };
                    tokio::time::sleep(Duration::from_secs(secs)).await;
                    Ok::<(), String>(())
                }
            })
            .await;
        assert!(outcomes.values().all(|o| *o == Outcome::Done));
        let starts = starts.into_inner();
        assert_eq!(starts["vpc"], 0);
        assert_eq!(starts["edge_function"], 0);
        assert_eq!(starts["alb"], 10);
        assert_eq!(starts["distribution"], 110);
        assert_eq!(starts["service"], 110);
        // The critical path: vpc + alb + distribution.
        assert_eq!(started.elapsed().as_secs(), 360);
    }

    #[tokio::test(start_paused = true)]
    async fn the_limit_caps_how_many_run_at_once() {
        let mut g = Graph::new();
        for n in ["a", "b", "c", "d"] {
            g.add(n, &[]);
        }
        let in_flight = RefCell::new((0, 0));
        g.run(2, |_| async {
            {
                let mut f = in_flight.borrow_mut();
                f.0 += 1;
                f.1 = f.1.max(f.0);
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
            in_flight.borrow_mut().0 -= 1;
            Ok::<(), ()>(())
        })
        .await;
        assert_eq!(in_flight.into_inner().1, 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failure_skips_only_its_dependents() {
        let outcomes = stack()
            .run(8, |node| async move {
                if node == "alb" {
                    Err("TooManyLoadBalancers".to_string())
                } else {
                    Ok(())
                }
            })
            .await;
        assert_eq!(outcomes["alb"], Outcome::Failed("TooManyLoadBalancers".into()));
        assert_eq!(
            outcomes["service"],
            Outcome::Skipped {
                because: "alb".into()
            }
        );
        assert_eq!(
            outcomes["distribution"],
            Outcome::Skipped {
                because: "alb".into()
            }
        );
        assert_eq!(outcomes["vpc"], Outcome::Done);
        assert_eq!(
            outcomes["edge_function"],
            Outcome::Done,
            "an independent branch finishes"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn teardown_runs_the_reversed_graph() {
        let order = RefCell::new(Vec::new());
        let outcomes = stack()
            .reversed()
            .run(1, |node| {
                order.borrow_mut().push(node);
                async { Ok::<(), ()>(()) }
            })
            .await;
        assert!(outcomes.values().all(|o| *o == Outcome::Done));
        let order = order.into_inner();
        let at = |n: &str| order.iter().position(|x| x == n).unwrap();
        assert!(at("distribution") < at("alb") && at("distribution") < at("edge_function"));
        assert!(at("service") < at("alb") && at("alb") < at("vpc"));
    }
}
