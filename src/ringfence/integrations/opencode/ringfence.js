// ringfence:opencode-plugin
// ringfence's gate for OpenCode: every tool call is decided by `ringfence hook opencode`
// before it runs. Installed by `ringfence init --agent opencode`; removed by
// `ringfence uninstall --agent opencode`; checked by `ringfence doctor --agent opencode`.
// Edit nothing here: ringfence refuses to update or remove a modified copy.
//
// The hook sends {hook_event_name, tool, sessionID, callID, args, directory, worktree,
// agent} as JSON on ringfence's stdin and reads {"decision": "allow" | "deny", "reason"}
// from its stdout. Anything but an allow throws, which makes OpenCode fail the tool call
// and show the reason to the model. It fails closed: a missing ringfence, a crash, a
// non-zero exit, a timeout or output it cannot read all block the call.
//
// Environment: RINGFENCE_BIN (absolute path of the ringfence program to run instead of
// the one below), RINGFENCE_TIMEOUT_MS (how long to wait for an answer; default 30000).
// No dependencies; runs in Bun (OpenCode) and Node.

import { spawn } from "node:child_process";

const RINGFENCE_COMMAND = ["ringfence"]; // ringfence:command
const DEFAULT_TIMEOUT_MS = 30000;
const MAX_ANSWER_BYTES = 1024 * 1024;

function command() {
  const bin = process.env.RINGFENCE_BIN;
  if (bin !== undefined && bin !== "") {
    if (!bin.startsWith("/")) {
      throw new Error(`ringfence: RINGFENCE_BIN must be an absolute path, not ${JSON.stringify(bin)}; blocked`);
    }
    return [bin];
  }
  return RINGFENCE_COMMAND;
}

function timeoutMs() {
  const raw = process.env.RINGFENCE_TIMEOUT_MS;
  if (raw === undefined || raw === "") return DEFAULT_TIMEOUT_MS;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`ringfence: RINGFENCE_TIMEOUT_MS must be a positive number of milliseconds, not ${JSON.stringify(raw)}; blocked`);
  }
  return value;
}

// Run `ringfence hook opencode` with `payload` on stdin; resolve to its answer object or
// reject with an Error saying what went wrong.
function ask(payload, cwd) {
  return new Promise((resolve, reject) => {
    const argv = command();
    const limit = timeoutMs();
    let settled = false;
    const finish = (fn, value) => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        fn(value);
      }
    };
    let child;
    try {
      child = spawn(argv[0], [...argv.slice(1), "hook", "opencode"], {
        cwd,
        stdio: ["pipe", "pipe", "pipe"],
        shell: false,
        windowsHide: true,
      });
    } catch (error) {
      reject(new Error(`could not start ${argv[0]}: ${error.message}`));
      return;
    }
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      finish(reject, new Error(`${argv[0]} gave no answer within ${limit} ms`));
    }, limit);
    const out = [];
    let size = 0;
    let err = "";
    child.stdout.on("data", (chunk) => {
      size += chunk.length;
      if (size > MAX_ANSWER_BYTES) {
        child.kill("SIGKILL");
        finish(reject, new Error(`${argv[0]} printed more than ${MAX_ANSWER_BYTES} bytes`));
      } else {
        out.push(chunk);
      }
    });
    child.stderr.on("data", (chunk) => {
      if (err.length < 4096) err += chunk.toString("utf8");
    });
    child.stdin.on("error", () => {}); // the exit code and stdout decide
    child.on("error", (error) => finish(reject, new Error(`could not run ${argv[0]}: ${error.message}`)));
    child.on("close", (code, signal) => {
      if (code !== 0) {
        const why = signal ? `was killed by ${signal}` : `exited with ${code}`;
        const detail = err.trim().split("\n")[0];
        finish(reject, new Error(`${argv[0]} ${why}${detail ? `: ${detail}` : ""}`));
        return;
      }
      const text = Buffer.concat(out).toString("utf8").trim();
      let answer;
      try {
        answer = JSON.parse(text);
      } catch {
        finish(reject, new Error(`${argv[0]} did not answer with JSON: ${JSON.stringify(text.slice(0, 200))}`));
        return;
      }
      if (
        answer === null ||
        typeof answer !== "object" ||
        Array.isArray(answer) ||
        (answer.decision !== "allow" && answer.decision !== "deny") ||
        typeof answer.reason !== "string"
      ) {
        finish(reject, new Error(`${argv[0]} answered something that is not a decision: ${JSON.stringify(text.slice(0, 200))}`));
        return;
      }
      finish(resolve, answer);
    });
    child.stdin.end(JSON.stringify(payload));
  });
}

export const RingfencePlugin = async ({ directory, worktree }) => ({
  "tool.execute.before": async (input, output) => {
    const payload = {
      hook_event_name: "tool.execute.before",
      tool: input?.tool,
      sessionID: input?.sessionID,
      callID: input?.callID,
      args: output?.args ?? {},
      directory,
    };
    if (typeof worktree === "string" && worktree !== "") payload.worktree = worktree;
    if (typeof input?.agent === "string" && input.agent !== "") payload.agent = input.agent;
    let answer;
    try {
      answer = await ask(payload, directory);
    } catch (error) {
      throw new Error(`ringfence blocked this ${input?.tool ?? "tool"} call because it could not decide (${error.message}); ringfence fails closed. Run \`ringfence doctor --agent opencode\`.`);
    }
    if (answer.decision !== "allow") {
      throw new Error(answer.reason);
    }
  },
});
