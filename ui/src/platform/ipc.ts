// Generated from switchyard-studio's types by the `ipc_types` test. Do not edit:
// run `UPDATE_IPC_TYPES=1 cargo test -p switchyard-studio --test ipc_types` after changing them.

/** The error codes the UI branches on. */
export const ERROR_CODES = ["bad_request", "unauthorized", "forbidden", "not_found", "conflict", "gap", "storage", "busy", "unreachable", "timeout", "untrusted", "keychain", "internal"] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** The servers the studio speaks to (`switchyard_client::ServerKind`). */
export const SERVER_KINDS = ["switchyard-node", "harperdb"] as const;

export type ServerKind = (typeof SERVER_KINDS)[number];

/** The local cluster's instances, the factory scenario's: two edges, then hq (`local::CLUSTER`). */
export const CLUSTER_NODES = ["edge-1", "edge-2", "hq"] as const;

export type ClusterNode = (typeof CLUSTER_NODES)[number];

export type JsonValue = number | string | boolean | Array<JsonValue> | { [key in string]: JsonValue } | null;

export type Trust = { "mode": "system" } | { "mode": "ca", pem: string, } | { "mode": "pinned", fingerprint: string, };

export type InstanceKind = "local" | "remote";

export type InstanceSpec = { id: string, name: string, url: string, username: string, kind: InstanceKind, tls: Trust, 
/**
 * Local instances: the port last used, tried first on the next start.
 */
port?: number, };

export type InstanceInput = { id?: string, name: string, url: string, username: string, password?: string, tls: Trust, };

export type ErrorBody = { 
/**
 * One of the few classes a caller branches on; never branch on `message`.
 */
code: ErrorCode, message: string, };

export type InstanceStatus = { id: string, online: boolean, latencyMs?: number, version?: string, serverKind?: ServerKind, nodeName?: string, error?: ErrorBody, 
/**
 * The certificate an https:// instance presented when it was not trusted.
 */
certificateFingerprint?: string, };

export type RegistryView = { instances: Array<InstanceSpec>, 
/**
 * Whether passwords can be stored (an OS keychain answered).
 */
keychainAvailable: boolean, keychainError?: string, };

export type About = { version: string, 
/**
 * The instance list, local instances' data, the canvas layout and health history.
 */
dataDir: string, 
/**
 * The studio's log files (rotated daily, the last 7 kept).
 */
logDir: string, 
/**
 * Where exports are written.
 */
exportsDir: string, };

export type TreeTable = { name: string, primaryKey: string, recordCount?: number, 
/**
 * The count is the server's estimate (HarperDB stops counting after 500 ms).
 */
recordCountEstimated: boolean, expiration?: number, attributes: Array<string>, };

export type TreeDatabase = { name: string, tables: Array<TreeTable>, };

export type FilterOp = "equals" | "not_equal" | "contains" | "starts_with" | "greater_than" | "less_than";

export type ColumnFilter = { attribute: string, op: FilterOp, value: unknown, };

export type SortSpec = { attribute: string, descending: boolean, };

export type PageAnchor = { "kind": "first" } | { "kind": "last" } | { "kind": "after", key: unknown, } | { "kind": "before", key: unknown, } | { "kind": "offset", offset: number, };

export type PageRequest = { database: string, table: string, primaryKey: string, sort?: SortSpec, filters: Array<ColumnFilter>, anchor: PageAnchor, limit: number, };

export type Page = { rows: Record<string, unknown>[], 
/**
 * Attribute names seen in these rows, primary key first, server timestamps last.
 */
columns: Array<string>, 
/**
 * Records in the table (no filters), from describe_table.
 */
total?: number, 
/**
 * Index of the first row in the whole ordered result, when known.
 */
offset?: number, 
/**
 * Whether the page ends the result in its direction (fewer rows than asked).
 */
atEnd: boolean, 
/**
 * Something about this page the user should know (rows the server returned and the
 * studio left out, and why).
 */
notice?: string, };

export type SqlResult = { rows: Record<string, unknown>[], columns: Array<string>, 
/**
 * For statements that change data: the server's message.
 */
message?: string, elapsedMs: number, };

export type WriteMode = "insert" | "update" | "upsert";

export type WriteReport = { message: string, written: number, writtenKeys: unknown[], 
/**
 * Keys the server skipped (an insert of an existing key, an update of a missing one).
 */
skippedKeys: unknown[], 
/**
 * Something about this write the user should know (keys the server did not report).
 */
notice?: string, };

export type NewTable = { database: string, table: string, primaryKey: string, expiration?: number, };

export type LocalState = { id: string, running: boolean, url?: string, dataDir: string, error?: string, };

export type LocalCredentials = { url: string, username: string, 
/**
 * Made at this start; held in memory only, replaced at the next launch.
 */
password: string, };

export type TailRequest = { 
/**
 * `database:table` channels.
 */
channels: Array<string>, 
/**
 * Recent transactions shown first, per channel (0: live ones only).
 */
window: number, 
/**
 * Transactions read from the log at most to heal one gap; more is reported as a gap.
 */
healMax: number, 
/**
 * Starts after this log id instead of the window: every transaction since (up to
 * `heal_max`, the rest reported as a gap), then live ones.
 */
from?: number, };

export type TailSource = "window" | "live" | "healed";

export type TailRecord = { 
/**
 * The position in the tailed node's log.
 */
id: number, channel: string, 
/**
 * Where the write happened, and its id there: the same on every node it reaches.
 */
origin: string, originId: number, operation: string, user?: string, 
/**
 * Commit time at the origin (ms since the epoch).
 */
ts: number, 
/**
 * When it reached the studio (ms since the epoch).
 */
arrived: number, 
/**
 * How it reached the tail.
 */
source: TailSource, 
/**
 * The records written, or the keys deleted.
 */
data: JsonValue, };

export type TailEvent = { "kind": "record" } & TailRecord | { "kind": "live" } | { "kind": "reconnecting", error: string, retryInMs: number, } | { "kind": "healed", channel: string, count: number, } | { "kind": "gap", channel: string, after: number, before?: number, reason: string, } | { "kind": "refused", channel: string, reason: string, } | { "kind": "not_exported", channel: string, } | { "kind": "failed", reason: string, };

export type TailFilter = { channel: string, operation: string, 
/**
 * Part of a key written or deleted.
 */
key: string, 
/**
 * Part of the payload or the origin, in any case.
 */
text: string, };

export type Dropped = { count: number, firstId: number, lastId: number, 
/**
 * Arrival times (ms since the epoch) of the first and the last dropped.
 */
firstTs: number, lastTs: number, };

export type TailNotice = { "kind": "said", text: string, } | { "kind": "reconnecting", error: string, } | { "kind": "reconnected", awayMs: number, resumedAfter?: number, 
/**
 * Transactions missed while away that were read from the log.
 */
healed: number, 
/**
 * Some of what it missed could not be read: the gap is said in its own notice.
 */
gap: boolean, } | { "kind": "dropped", dropped: Dropped, cap: number, };

export type Connection = "opening" | "live" | "reconnecting" | "failed" | "idle";

export type Order = "newest" | "oldest";

export type TailPort = { order: Order, first: number, count: number, };

export type TailLine = { 
/**
 * Its place in this tail's arrival order (stable while it is held; `tail_record` reads it).
 */
seq: number, id: number, arrived: number, channel: string, operation: string, 
/**
 * The first `SHOWN_KEYS` keys, "…" after them when there are more (`count` says how many).
 */
keys: string, 
/**
 * Records in the transaction (keys of a delete).
 */
count: number, 
/**
 * Every key, when the line shows only the first (cut at a few thousand characters).
 */
allKeys?: string, origin: string, originId: number, 
/**
 * The first records as JSON, cut to `PREVIEW_CHARS` (with an ellipsis when cut).
 */
preview: string, };

export type TailUpdate = { 
/**
 * Grows with every change; a window keeps the highest it has seen (pushed updates and
 * answers to its actions may cross).
 */
version: number, connection: Connection, 
/**
 * The operations this tail's records can carry (by the server's kind): what the operation
 * filter offers.
 */
operations: Array<string>, 
/**
 * Transactions received since the tail opened or was cleared.
 */
received: number, 
/**
 * Transactions in the ring, and the records they hold (at most `shownCap`).
 */
rows: number, held: number, 
/**
 * Transactions in the ring that pass the filter.
 */
shown: number, paused: boolean, 
/**
 * Records in the pause buffer (at most `pauseCap`).
 */
buffered: number, dropped?: Dropped, shownCap: number, pauseCap: number, 
/**
 * The last notices, oldest first.
 */
notices: Array<TailNotice>, 
/**
 * Channels a HarperDB instance publishes nothing of until a component exports them.
 */
notExported: Array<string>, 
/**
 * Records per second over the last minute, oldest first (the last second still counting).
 */
rate: Array<number>, port: TailPort, 
/**
 * The port's rows (fewer at the list's end).
 */
lines: Array<TailLine>, };

export type TailAction = { "kind": "pause" } | { "kind": "resume" } | { "kind": "clear" } | { "kind": "dismiss_notices" } | { "kind": "filter", filter: TailFilter, } | { "kind": "port", port: TailPort, };

export type TailExported = { path: string, 
/**
 * Transactions written (one line each).
 */
count: number, };

export type Presence = { "kind": "arrived", delayMs: number, } | { "kind": "pending" } | { "kind": "missing", forMs: number, };

export type CrossingLine = { origin: string, originId: number, operation: string, keys: string, 
/**
 * Per node, in the order of `CompareUpdate::nodes`.
 */
presence: Array<Presence>, };

export type CompareNode = { 
/**
 * The instance's id.
 */
id: string, connection: Connection, 
/**
 * Transactions held that are missing on this node now.
 */
missing: number, 
/**
 * The node's last notice (a refusal, a gap, why it stopped), when any.
 */
notice?: string, };

export type CompareUpdate = { version: number, nodes: Array<CompareNode>, 
/**
 * Transactions held.
 */
rows: number, graceMs: number, 
/**
 * The place of the first of `lines` (newest first), and how many were asked for.
 */
first: number, count: number, lines: Array<CrossingLine>, };

export type Position = { x: number, y: number, };

export type NodePositions = { positions: { [key in string]: Position }, };

export type NodeKind = "local" | "remote" | "ghost";

export type LinkState = "closed" | "paused" | "connecting" | "open";

export type WarningKind = "missing_table" | "failing_link" | "one_sided" | "refused_channel" | "ghost" | "unreachable" | "cycle" | "stale_link";

export type TopoNode = { 
/**
 * The instance id, or `ghost:<node name>`.
 */
id: string, 
/**
 * The registry's name (the ghost's node name): what `topo-node-<name>` carries.
 */
name: string, 
/**
 * The node's own name (the one peers use in add_node).
 */
nodeName?: string, kind: NodeKind, 
/**
 * The server, when it answered.
 */
serverKind?: ServerKind, online: boolean, version?: string, 
/**
 * Why it could not be asked, or why it refuses writes.
 */
error?: string, 
/**
 * Its tables, `database:table`.
 */
channels: Array<string>, 
/**
 * The tables are those it had when it last answered (it is offline).
 */
channelsLastKnown: boolean, 
/**
 * Entries of its own log its peers have not acknowledged (or, before any did, not yet sent
 * by the links it dials).
 */
backlog: number, 
/**
 * The last transaction of its log (any channel), when it said: successive views give its
 * write rate.
 */
logHead?: number, 
/**
 * The worst lag in time of the edges into it (ms), when any of them reports one.
 */
inboundLagMs?: number, 
/**
 * Where a ghost was dialled (`http://host:port`), to register it.
 */
url?: string, };

export type EdgeChannel = { channel: string, 
/**
 * The node running the link (add_node was sent to it), and the name it gave the peer.
 */
dialer: string, linkName: string, 
/**
 * The source's log position this channel has carried up to (sent by the dialer, or
 * applied from the peer): successive refreshes give the rate.
 */
position?: number, 
/**
 * Entries on the source not yet sent (known when the dialer is the source).
 */
backlog?: number, 
/**
 * How far behind the target is on this channel, in ms (the source's receivers: the age of
 * the oldest entry it lacks; 0 when caught up). None when the source does not report it
 * (HarperDB).
 */
lagMs?: number, 
/**
 * Entries this channel carried on the link since the dialler started it: successive
 * refreshes give messages per second.
 */
carried: number, gaps: number, error?: string, };

export type TopoEdge = { 
/**
 * `<source id>-><target id>`.
 */
id: string, source: string, target: string, 
/**
 * The worst of its links' states.
 */
state: LinkState, 
/**
 * Since when (ms since the epoch) the link is in its state.
 */
since: number, latencyMs?: number, lastError?: string, channels: Array<EdgeChannel>, 
/**
 * The worst lag in time of its channels (ms), when any reports one.
 */
lagMs?: number, 
/**
 * Whether some channel on it runs in a cycle (allowed; marked).
 */
cycle: boolean, 
/**
 * Failing (see `LinkState::failing`), or some channel on it reports an error: drawn so.
 */
failing: boolean, 
/**
 * It replicates whole databases both ways (HarperDB's default full mesh): its channels
 * are every table of those databases, now and later.
 */
mesh: boolean, };

export type TopoWarning = { kind: WarningKind, message: string, node?: string, edge?: string, channel?: string, };

export type ChannelFlow = { channel: string, edges: Array<string>, reach: { [key in string]: Array<string> }, 
/**
 * Edges that lie on a cycle of this channel.
 */
cycleEdges: Array<string>, };

export type TopologyView = { nodes: Array<TopoNode>, edges: Array<TopoEdge>, flows: Array<ChannelFlow>, warnings: Array<TopoWarning>, };

export type WiringExport = { text: string, leftOut: Array<string>, };

export type WiringPreview = { id: string, changes: Array<string>, plans: Array<LinkPlan>, leftOut: Array<string>, };

export type DriftKind = "missing" | "changed" | "extra";

export type Drift = { dialer: string, to: string, kind: DriftKind, 
/**
 * The change that would make the cluster as the file says (`+`, `~`, `-`).
 */
words: string, };

export type Thresholds = { 
/**
 * Alert while the link is more than this many seconds behind.
 */
lagSeconds?: number, 
/**
 * Alert once the link has not been open for this many seconds.
 */
downSeconds?: number, };

export type HealthRules = { default: Thresholds, perEdge: { [key in string]: Thresholds }, };

export type AlertKind = "lag" | "down";

export type Alert = { edge: string, sourceName: string, targetName: string, kind: AlertKind, 
/**
 * The threshold crossed (seconds).
 */
thresholdSeconds: number, 
/**
 * When it started and, once over, ended (ms since the epoch).
 */
started: number, ended?: number, 
/**
 * The worst it got: seconds behind, or seconds down.
 */
worstSeconds: number, };

export type HealthState = { rules: HealthRules, alerts: Array<Alert>, };

export type Sample = { 
/**
 * When (ms since the epoch); a minute's start for per-minute samples.
 */
at: number, 
/**
 * How far behind (ms), when the source reports it.
 */
lagMs?: number, 
/**
 * Entries the source owes the target.
 */
backlog: number, 
/**
 * Entries carried per second.
 */
rate: number, 
/**
 * The link was not open.
 */
down: boolean, };

export type EdgeHistory = { edge: string, samples: Array<Sample>, 
/**
 * The spacing of the recent samples and of the older ones (ms).
 */
fineMs: number, coarseMs: number, };

export type Direction = "aToB" | "bToA" | "both";

export type LinkChannel = { 
/**
 * `database:table`.
 */
channel: string, direction: Direction, };

export type LinkRequest = { a: string, b: string, channels: Array<LinkChannel>, 
/**
 * The dialler is `b` instead of `a`.
 */
bDials: boolean, };

export type PlanStep = { instance: string, instanceName: string, operation: string, request: JsonValue, };

export type LinkPlan = { id: string, summary: string, 
/**
 * What the user should know before applying (a server's own caveats), in words.
 */
notes: Array<string>, steps: Array<PlanStep>, };

export type StepResult = { instanceName: string, operation: string, ok: boolean, message: string, };

export type ApplyReport = { ok: boolean, steps: Array<StepResult>, undone: Array<StepResult>, 
/**
 * Things a failed apply could not take back, in words (empty when nothing was left).
 */
leftBehind: Array<string>, };

export type EdgeLoad = { edge: string, 
/**
 * Readings written to `sensor_raw`.
 */
written: number, 
/**
 * Of those, out of range, written to `sensor_data` as well.
 */
outOfRange: number, 
/**
 * Batches the edge refused or did not answer (not retried: the readings were not taken).
 */
failedBatches: number, lastError?: string, };

export type LoadStats = { 
/**
 * Readings asked for, per edge and second.
 */
rate: number, running: boolean, edges: Array<EdgeLoad>, };

export type FactorySetup = { 
/**
 * Instance ids of edge-1 and edge-2.
 */
edges: Array<string>, hq: string, 
/**
 * Names of instances that existed and were reused.
 */
reused: Array<string>, 
/**
 * The plans of its links (`factory:sensor_data` edge → hq and `factory:config` hq → edge,
 * one link per edge), to show; `factory_apply` applies them, `factory_drop` drops them.
 */
plans: Array<LinkPlan>, };

export type Arrival = { expected: number, arrived: number, 
/**
 * Some of the readings that did not arrive (at most 20).
 */
missing: Array<string>, 
/**
 * In words, for the user: "12,408 of 12,408 readings arrived, none twice".
 */
summary: string, };

export type VerifyRequest = { instances: Array<string>, 
/**
 * `database:table`, each.
 */
channels: Array<string>, 
/**
 * A name for this run, to cancel it by (`verify_cancel`).
 */
run?: string, };

export type Verdict = "inSync" | "inFlight" | "differs" | "failed";

export type VerifyNode = { id: string, name: string, 
/**
 * Records it holds.
 */
count: number, 
/**
 * What it had applied of each origin when read: `origin #log id`.
 */
watermark: Array<string>, };

export type CellState = "live" | "deleted" | "absent";

export type Method = "digests" | "scan";

export type Cell = { state: CellState, version?: string, origin?: string, 
/**
 * When the write was made (ms since the epoch).
 */
updated?: number, record?: JsonValue, };

export type DiffRow = { key: JsonValue, cells: Array<Cell>, winner?: number, behind: Array<number>, inFlight: boolean, note?: string, };

export type ChannelReport = { channel: string, method: Method, verdict: Verdict, nodes: Array<VerifyNode>, 
/**
 * Buckets (of 256) whose digests differ.
 */
bucketsDiffering: number, 
/**
 * Records read to compare, all nodes together: those of the differing buckets (digests),
 * or every record (scan).
 */
scanned: number, 
/**
 * Keys found differing (all of them, also past `rows`).
 */
differing: number, inFlight: number, 
/**
 * The differing keys shown, at most `ROWS_SHOWN`.
 */
rows: Array<DiffRow>, 
/**
 * The listing stopped at its bound: more may differ than `differing` says.
 */
truncated: boolean, error?: string, };

export type VerifyReport = { 
/**
 * What a repair plan is made from.
 */
id: string, 
/**
 * When it finished (ms since the epoch).
 */
at: number, instances: Array<string>, verdict: Verdict, channels: Array<ChannelReport>, 
/**
 * Passes made: differences in flight are checked again, a few times.
 */
passes: number, 
/**
 * In words: "in sync: 1,000 records as of …" or "3 records differ".
 */
summary: string, 
/**
 * How long it took (ms).
 */
tookMs: number, };

export type RepairStep = { instance: string, instanceName: string, channel: string, 
/**
 * Records written (the winner's version), tombstones set, keys emptied.
 */
writes: number, deletes: number, 
/**
 * Keys whose repair waits on replication anyway (in flight when verified).
 */
keys: Array<JsonValue>, };

export type RepairPlan = { id: string, summary: string, steps: Array<RepairStep>, 
/**
 * Differing keys left alone (no winner by the replication rule), in words.
 */
skipped: Array<string>, };

