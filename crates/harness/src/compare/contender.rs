//! One backend ready to run ([`Contender`]) and one measured run of it
//! ([`run_once`]): the program, its environment, and the check that the run
//! was served by the backend it was meant for. For the façade method the
//! program is a build of the user's target per backend ([`build_contender`]);
//! for `--preload` it is the user's program with a library in front
//! (`preload.rs`).

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;

use allocmux::Backend;

use super::project::Project;
use super::{banner, preload, MeasureSettings};
use crate::cargo_build::{self, BuildRequest, TargetKind};
use crate::cmd;
use crate::process;
use crate::results::{BackendEvidence, CellRun, RunStatus};

/// One backend ready to run: the program to start and its environment, or
/// why it cannot run.
#[derive(Debug, Clone)]
pub struct Contender {
    /// The name its runs are recorded under: the backend's, or the name given
    /// to an external library (`--library NAME=PATH`).
    pub name: String,
    /// One line on what it is.
    pub description: String,
    /// The allocmux backend, or `None` for an external library.
    pub backend: Option<Backend>,
    /// The program to start (a per-backend build, or the user's program).
    pub program: PathBuf,
    /// Arguments placed before the user's (`--bench` for bench targets).
    pub leading_args: Vec<String>,
    /// Environment for every run.
    pub env: Vec<(String, String)>,
    /// Why the backend cannot run (its build failed or carries the wrong backend).
    pub unusable: Option<String>,
    /// What proves the build is that backend.
    pub evidence: BackendEvidence,
    /// The library preloaded for this backend (`--preload`), if any.
    pub preload: Option<PathBuf>,
}

impl Contender {
    /// How a run of this contender shows which allocator served it.
    fn proof(&self, preload_mode: bool) -> Proof {
        match (preload_mode, &self.preload, self.backend) {
            (false, _, _) => Proof::Banner,
            (true, Some(_), Some(_)) => Proof::Library,
            (true, Some(_), None) => Proof::Checked,
            (true, None, _) => Proof::Nothing,
        }
    }
}

/// What a run must show to count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Proof {
    /// The façade's start-up line naming the backend.
    Banner,
    /// The preloaded library's exit line, served=yes.
    Library,
    /// An external library: checked once, before the runs, that the loader
    /// binds the program's `malloc` to it ([`super::preload::external`]).
    Checked,
    /// Nothing: the program runs as it is (the system allocator under --preload).
    Nothing,
}

/// The façade features a build of `backend` must carry (none for system).
fn expected_feature(backend: Backend) -> Option<&'static str> {
    backend.feature()
}

/// Builds the program for `backend` and checks that Cargo compiled the façade
/// with that backend's feature and no other.
pub fn build_contender(project: &Project, backend: Backend, work: &Path) -> Contender {
    let mut contender = Contender {
        preload: None,
        name: backend.name().into(),
        description: backend.description().into(),
        backend: Some(backend),
        program: PathBuf::new(),
        leading_args: match project.target {
            TargetKind::Bench(_) => vec!["--bench".into()],
            _ => Vec::new(),
        },
        env: vec![(banner::BANNER_ENV.into(), "1".into())],
        unusable: None,
        evidence: BackendEvidence {
            backend: backend.name().into(),
            facade_features: Vec::new(),
            library: None,
            banner: None,
        },
    };
    let features: Vec<String> = expected_feature(backend)
        .map(|f| format!("{}/{f}", project.facade_dep))
        .into_iter()
        .collect();
    let built = cargo_build::build(&BuildRequest {
        dir: &project.root,
        package: Some(&project.package),
        target: project.target.clone(),
        features,
        no_default_features: false,
        target_dir: &work.join("build"),
        // Symbols stay in, whatever the project's profile says: they cost
        // nothing at run time and let a profiler read the binaries.
        env: vec![("CARGO_PROFILE_RELEASE_STRIP".into(), "none".into())],
        log: work
            .join("logs")
            .join(format!("build-{}.log", backend.name())),
        what: format!(
            "{} `{}` with {backend}",
            project.target.kind(),
            project.target.name()
        ),
    });
    let built = match built {
        Ok(b) => b,
        Err(e) => {
            contender.unusable = Some(e);
            return contender;
        }
    };
    let facade = built.facade_features.unwrap_or_default();
    let backends_in: Vec<&str> = Backend::ALL
        .iter()
        .filter_map(|b| b.feature())
        .filter(|f| facade.iter().any(|x| x == f))
        .collect();
    contender.evidence.facade_features = facade.clone();
    if backends_in != expected_feature(backend).into_iter().collect::<Vec<_>>() {
        contender.unusable = Some(format!(
            "the {backend} build compiled allocmux with the backend features {backends_in:?}; expected {:?}",
            expected_feature(backend).into_iter().collect::<Vec<_>>()
        ));
        return contender;
    }
    let dest = work
        .join("bin")
        .join(format!("{}-{}", project.target.name(), backend.name()));
    match cargo_build::copy_out(&built.executable, &dest) {
        Ok(()) => contender.program = dest,
        Err(e) => contender.unusable = Some(e),
    }
    contender
}

/// Runs `contender` once and turns what happened into a [`CellRun`].
pub fn run_once(contender: &Contender, s: &MeasureSettings<'_>, label: &str, rep: u32) -> CellRun {
    let (preload_mode, args, dir, timeout, metric) =
        (s.preload, s.args, s.dir, s.timeout, s.metric);
    let mut run = CellRun::new(label, &contender.name, 1, rep, RunStatus::Failed);
    if let Some(why) = &contender.unusable {
        run.error = Some(format!("not run: {}", cmd::last_line(why)));
        return run;
    }
    let mut c = Command::new(&contender.program);
    c.args(&contender.leading_args).args(args).current_dir(dir);
    for (k, v) in &contender.env {
        c.env(k, v);
    }
    let finished = process::run_sampled(&mut c, timeout, Some(s.sample));
    let stderr = preload::LIBRARY_LINE.strip(&banner::FACADE_LINE.strip(&finished.stderr));
    run.stdout_digest = Some(digest(&finished.stdout));
    if !run.record_process(&finished, timeout, &stderr) {
        return run;
    }
    let backend = contender.name.as_str();
    let proof = match contender.proof(preload_mode) {
        Proof::Banner => banner::verify(&finished.stderr, finished.pid, backend).map(Some),
        Proof::Library => preload::verify(&finished.stderr, finished.pid, backend).map(Some),
        Proof::Checked => Ok(contender.evidence.banner.clone()),
        Proof::Nothing => match preload::LIBRARY_LINE
            .read(&finished.stderr)
            .iter()
            .find(|b| b.pid == finished.pid)
        {
            Some(b) => Err(format!(
                "an allocmux library was loaded into the system allocator's run: {}",
                b.line
            )),
            None => Ok(Some(
                "no allocmux library in the process: the program's own (system) allocator".into(),
            )),
        },
    };
    match proof {
        Ok(line) => run.active = line,
        Err(e) => {
            run.error = Some(e);
            return run;
        }
    }
    if let Some(m) = metric {
        match m.find(&finished.stdout).or_else(|| m.find(&stderr)) {
            Some(v) => run.metric = Some(v),
            None => {
                run.error = Some("the program printed no value for --metric".into());
                return run;
            }
        }
    }
    run.status = RunStatus::Ok;
    run
}

/// A digest of a run's output, to compare runs without keeping the output.
fn digest(text: &str) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    format!("{:016x}", h.finish())
}
