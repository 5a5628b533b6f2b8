//! Lock-aware chunk planning: which rows go to which job, on disk, in bounded memory.
//!
//! A *chunk* is the rows of one job: a CSV file (`chunk-N.csv`, exactly the upload body) and
//! a sidecar of their input row numbers (`chunk-N.rows`, little-endian u64s). Chunks are cut
//! below the upload byte cap and the per-job row cap.
//!
//! **Without grouping** rows stream into chunks in input order, one open chunk per shape.
//!
//! **With grouping** (a parent column such as `Contact.AccountId`), Salesforce locks the parent
//! of every row it writes, so two batches processed at once that share a parent wait on each
//! other and rows fail with `UNABLE_TO_LOCK_ROW`. The plan keeps every parent's rows in one
//! chunk, and a chunk holds at most one internal batch (`batch_rows`, 10 000), so no parent
//! straddles two of the server's batches either:
//!
//! 1. rows are spilled to `buckets` temp files by hash of their parent (bounded memory
//!    whatever the input size; every parent lands in exactly one bucket);
//! 2. each bucket is read back and grouped by parent in memory — a bucket above `sort_rows`
//!    is first split again with another hash seed, so memory stays bounded;
//! 3. groups are packed first-fit-decreasing into chunks of `batch_rows` rows, rows ordered by
//!    parent; a parent with more rows than that (data skew) gets consecutive chunks that share
//!    a *lane*, and the runner never runs two chunks of one lane at once.
//!
//! Rows with an empty parent lock nothing and are planned as without grouping.
//!
//! Rejected alternative: sort the whole input by parent (external merge sort). It orders
//! globally, which nothing needs; hashing gives the only property that matters (one parent,
//! one chunk) with a single spill pass.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use crate::bulk::codes::BULK_IO;
use crate::bulk::encode::{RowEncoder, Shapes};
use crate::error::Error;

/// Partly filled grouped chunks kept open across buckets; bounds the rows held in memory.
const MAX_CARRIED_BINS: usize = 4;

/// Attempts to split an oversized bucket before its rows are treated as one parent.
const MAX_SPLIT_DEPTH: u32 = 4;

/// One planned job: its rows are in `chunk-{id}.csv` / `chunk-{id}.rows`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkPlan {
    /// Chunk id, unique within the run.
    pub id: u64,
    /// Shape (header) of its rows.
    pub shape: usize,
    /// Chunks of one lane never run at once (one parent's rows split by size).
    pub lane: u64,
    /// Rows in the chunk.
    pub rows: u64,
    /// CSV bytes, header included.
    pub bytes: u64,
}

/// Caps a chunk must stay below.
#[derive(Debug, Clone, Copy)]
pub struct Caps {
    /// Rows per chunk.
    pub rows: u64,
    /// Bytes per chunk, header included.
    pub bytes: u64,
}

/// How planning is configured.
#[derive(Debug, Clone)]
pub struct PlanConfig {
    /// Caps of ungrouped chunks.
    pub caps: Caps,
    /// Rows of one grouped chunk (one internal batch).
    pub group_rows: u64,
    /// The parent column, when grouping.
    pub group_by: Option<String>,
    /// Spill buckets.
    pub buckets: usize,
    /// Rows grouped in memory at most.
    pub sort_rows: u64,
}

/// Paths of a run's files.
#[derive(Debug, Clone)]
pub struct RunDir(pub PathBuf);

impl RunDir {
    /// The upload body of chunk `id`.
    pub fn chunk_csv(&self, id: u64) -> PathBuf {
        self.0.join(format!("chunk-{id}.csv"))
    }
    /// The input row numbers of chunk `id`.
    pub fn chunk_rows(&self, id: u64) -> PathBuf {
        self.0.join(format!("chunk-{id}.rows"))
    }
    /// Rows of chunk `id` to retry after a lock failure.
    pub fn chunk_retry(&self, id: u64) -> PathBuf {
        self.0.join(format!("chunk-{id}.retry"))
    }
    /// Per-chunk outcome files (`success` / `error`).
    pub fn chunk_outcomes(&self, id: u64, kind: &str) -> PathBuf {
        self.0.join(format!("chunk-{id}.{kind}.csv"))
    }
    /// A spill bucket.
    fn bucket(&self, depth: u32, index: usize) -> PathBuf {
        self.0.join(format!("bucket-{depth}-{index}.csv"))
    }
}

/// FNV-1a with a seed and a final avalanche (murmur3's fmix64, so every output bit depends on
/// every input bit and different seeds split differently): stable across processes (unlike
/// `RandomState`), which keeps plans and fingerprints reproducible.
pub fn fnv1a(seed: u64, parts: &[&[u8]]) -> u64 {
    let mut hash = Fnv::new(seed);
    parts.iter().for_each(|part| hash.part(part));
    hash.finish()
}

/// [`fnv1a`] fed one part at a time, for callers that produce parts on the fly.
pub struct Fnv(u64);

impl Fnv {
    /// A hash of nothing yet.
    pub fn new(seed: u64) -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325u64 ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15))
    }

    /// Adds one part; parts are separated, so `["ab", "c"]` and `["a", "bc"]` differ.
    pub fn part(&mut self, part: &[u8]) {
        for byte in part.iter().copied().chain([0xff]) {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    /// The hash of the parts so far.
    pub fn finish(&self) -> u64 {
        let mut hash = self.0;
        hash ^= hash >> 33;
        hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
        hash ^= hash >> 33;
        hash = hash.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        hash ^ (hash >> 33)
    }
}

pub(crate) fn io_error(what: &str, path: &Path, e: impl std::fmt::Display) -> Error {
    Error::new(
        crate::ErrorKind::InvalidInput,
        BULK_IO,
        format!("{what} {}: {e}", path.display()),
    )
}

/// An open chunk being written.
struct OpenChunk {
    plan: ChunkPlan,
    csv: BufWriter<File>,
    rows: BufWriter<File>,
}

/// Hands out chunk ids and writes chunk files.
struct ChunkWriter {
    dir: RunDir,
    next_id: u64,
    done: Vec<ChunkPlan>,
    encoder: RowEncoder,
}

impl ChunkWriter {
    fn open(
        &mut self,
        shapes: &Shapes,
        shape: usize,
        lane: Option<u64>,
    ) -> Result<OpenChunk, Error> {
        let id = self.next_id;
        self.next_id += 1;
        let csv_path = self.dir.chunk_csv(id);
        let create = |p: &Path| {
            File::create(p)
                .map(BufWriter::new)
                .map_err(|e| io_error("cannot create", p, e))
        };
        let mut csv = create(&csv_path)?;
        let header = self.encoder.encode(shapes.of(shape))?;
        csv.write_all(&header)
            .map_err(|e| io_error("cannot write", &csv_path, e))?;
        let plan = ChunkPlan {
            id,
            shape,
            lane: lane.unwrap_or(id),
            rows: 0,
            bytes: header.len() as u64,
        };
        Ok(OpenChunk {
            plan,
            csv,
            rows: create(&self.dir.chunk_rows(id))?,
        })
    }

    fn append(&mut self, chunk: &mut OpenChunk, row: u64, encoded: &[u8]) -> Result<(), Error> {
        let path = self.dir.chunk_csv(chunk.plan.id);
        chunk
            .csv
            .write_all(encoded)
            .map_err(|e| io_error("cannot write", &path, e))?;
        chunk
            .rows
            .write_all(&row.to_le_bytes())
            .map_err(|e| io_error("cannot write", &path, e))?;
        chunk.plan.rows += 1;
        chunk.plan.bytes += encoded.len() as u64;
        Ok(())
    }

    fn close(&mut self, mut chunk: OpenChunk) -> Result<(), Error> {
        let path = self.dir.chunk_csv(chunk.plan.id);
        for w in [&mut chunk.csv, &mut chunk.rows] {
            w.flush()
                .and_then(|_| w.get_ref().sync_all())
                .map_err(|e| io_error("cannot write", &path, e))?;
        }
        self.done.push(chunk.plan);
        Ok(())
    }
}

/// Rows streamed into chunks, one open chunk per shape, cut at the caps.
struct StreamSink {
    caps: Caps,
    lane: Option<u64>,
    open: HashMap<usize, OpenChunk>,
}

impl StreamSink {
    fn new(caps: Caps, lane: Option<u64>) -> StreamSink {
        StreamSink {
            caps,
            lane,
            open: HashMap::new(),
        }
    }

    fn push(
        &mut self,
        w: &mut ChunkWriter,
        shapes: &Shapes,
        row: u64,
        shape: usize,
        fields: &[String],
    ) -> Result<(), Error> {
        let encoded = w.encoder.encode(fields)?;
        let len = encoded.len() as u64;
        let full = self
            .open
            .get(&shape)
            .is_some_and(|c| c.plan.rows >= self.caps.rows || c.plan.bytes + len > self.caps.bytes);
        if full {
            let chunk = self.open.remove(&shape).expect("checked");
            w.close(chunk)?;
        }
        if !self.open.contains_key(&shape) {
            let chunk = w.open(shapes, shape, self.lane)?;
            if chunk.plan.bytes + len > self.caps.bytes {
                return Err(Error::invalid_input(format!(
                    "row {row} is larger than the upload cap of {} bytes",
                    self.caps.bytes
                ))
                .with_row(row));
            }
            self.open.insert(shape, chunk);
        }
        let mut chunk = self.open.remove(&shape).expect("opened");
        let result = w.append(&mut chunk, row, &encoded);
        self.open.insert(shape, chunk);
        result
    }

    fn finish(self, w: &mut ChunkWriter) -> Result<(), Error> {
        let mut open: Vec<_> = self.open.into_values().collect();
        open.sort_by_key(|c| c.plan.id);
        open.into_iter().try_for_each(|c| w.close(c))
    }
}

/// A row held while a bucket is packed: input row number, fields, encoded length.
type HeldRow = (u64, Vec<String>, u64);

/// Rows of a chunk read back: `(input row, fields)` in upload order.
pub type ChunkRows = Box<dyn Iterator<Item = Result<(u64, csv::StringRecord), Error>> + Send>;

/// One spilled row: input row number, shape, parent key, fields.
struct SpilledRow {
    row: u64,
    shape: usize,
    parent: String,
    fields: Vec<String>,
}

fn spill_writer(path: &Path) -> Result<csv::Writer<BufWriter<File>>, Error> {
    let file = File::create(path).map_err(|e| io_error("cannot create", path, e))?;
    Ok(csv::WriterBuilder::new()
        .flexible(true)
        .has_headers(false)
        .from_writer(BufWriter::new(file)))
}

fn write_spilled(w: &mut csv::Writer<BufWriter<File>>, row: &SpilledRow) -> Result<(), Error> {
    let head = [
        row.row.to_string(),
        row.shape.to_string(),
        row.parent.clone(),
    ];
    w.write_record(head.iter().chain(row.fields.iter()))
        .map_err(|e| {
            Error::new(
                crate::ErrorKind::InvalidInput,
                BULK_IO,
                format!("cannot spill a row: {e}"),
            )
        })
}

fn read_spilled(path: &Path) -> Result<impl Iterator<Item = Result<SpilledRow, Error>>, Error> {
    let file = File::open(path).map_err(|e| io_error("cannot open", path, e))?;
    let reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .from_reader(BufReader::new(file));
    let path = path.to_owned();
    Ok(reader.into_records().map(move |rec| {
        let rec = rec.map_err(|e| io_error("cannot read", &path, e))?;
        let num = |i: usize| {
            rec.get(i)
                .and_then(|v| v.parse::<u64>().ok())
                .ok_or_else(|| io_error("corrupt spill row in", &path, i))
        };
        Ok(SpilledRow {
            row: num(0)?,
            shape: num(1)? as usize,
            parent: rec.get(2).unwrap_or_default().to_owned(),
            fields: rec.iter().skip(3).map(str::to_owned).collect(),
        })
    }))
}

/// A set of spill buckets at one split depth.
struct Buckets {
    depth: u32,
    paths: Vec<PathBuf>,
    writers: Vec<csv::Writer<BufWriter<File>>>,
    counts: Vec<u64>,
}

impl Buckets {
    fn create(dir: &RunDir, depth: u32, n: usize, base: usize) -> Result<Buckets, Error> {
        let paths: Vec<_> = (0..n).map(|i| dir.bucket(depth, base * n + i)).collect();
        let writers = paths
            .iter()
            .map(|p| spill_writer(p))
            .collect::<Result<_, _>>()?;
        Ok(Buckets {
            depth,
            paths,
            writers,
            counts: vec![0; n],
        })
    }

    fn push(&mut self, row: &SpilledRow) -> Result<(), Error> {
        let i = (fnv1a(u64::from(self.depth), &[row.parent.as_bytes()]) % self.writers.len() as u64)
            as usize;
        self.counts[i] += 1;
        write_spilled(&mut self.writers[i], row)
    }

    /// Flushes and returns `(path, rows)` per non-empty bucket.
    fn close(self) -> Result<Vec<(PathBuf, u64)>, Error> {
        for mut w in self.writers {
            w.flush().map_err(|e| {
                Error::new(
                    crate::ErrorKind::InvalidInput,
                    BULK_IO,
                    format!("cannot flush a spill file: {e}"),
                )
            })?;
        }
        let mut out = Vec::new();
        for (path, count) in self.paths.into_iter().zip(self.counts) {
            if count == 0 {
                let _ = std::fs::remove_file(&path);
            } else {
                out.push((path, count));
            }
        }
        Ok(out)
    }
}

/// Plans rows into chunk files. Feed rows with [`Planner::push`], then [`Planner::finish`].
pub struct Planner {
    config: PlanConfig,
    shapes: Shapes,
    writer: ChunkWriter,
    direct: StreamSink,
    buckets: Option<Buckets>,
    /// Partly filled grouped chunks carried to the next bucket (parents never repeat across
    /// buckets, so any bucket's groups may fill them); at most [`MAX_CARRIED_BINS`].
    carried: Vec<Bin>,
}

impl Planner {
    /// A planner writing into `dir`, numbering chunks from `first_id`. `shapes` may grow as
    /// rows arrive ([`Planner::shapes_mut`]).
    pub fn new(
        dir: RunDir,
        config: PlanConfig,
        shapes: Shapes,
        first_id: u64,
    ) -> Result<Planner, Error> {
        std::fs::create_dir_all(&dir.0).map_err(|e| io_error("cannot create", &dir.0, e))?;
        let buckets = match config.group_by {
            Some(_) => Some(Buckets::create(&dir, 0, config.buckets, 0)?),
            None => None,
        };
        let direct = StreamSink::new(config.caps, None);
        let writer = ChunkWriter {
            dir,
            next_id: first_id,
            done: Vec::new(),
            encoder: RowEncoder::default(),
        };
        Ok(Planner {
            config,
            shapes,
            writer,
            direct,
            buckets,
            carried: Vec::new(),
        })
    }

    /// The shapes known so far.
    pub fn shapes(&self) -> &Shapes {
        &self.shapes
    }

    /// The shapes, for placing new records.
    pub fn shapes_mut(&mut self) -> &mut Shapes {
        &mut self.shapes
    }

    /// The parent key of a row of `shape`, if grouping and the shape has the column.
    fn parent_of(&self, shape: usize, fields: &[String]) -> Option<String> {
        let column = self.config.group_by.as_deref()?;
        let index = self
            .shapes
            .of(shape)
            .iter()
            .position(|c| c.eq_ignore_ascii_case(column))?;
        let value = fields.get(index)?.trim();
        (!value.is_empty() && value != crate::bulk::encode::NULL_MARKER)
            .then(|| parent_key(value).to_owned())
    }

    /// Adds one row. An `Err` concerns only this row (e.g. larger than the upload cap).
    pub fn push(&mut self, row: u64, shape: usize, fields: Vec<String>) -> Result<(), Error> {
        match (self.parent_of(shape, &fields), self.buckets.as_mut()) {
            (Some(parent), Some(buckets)) => buckets.push(&SpilledRow {
                row,
                shape,
                parent,
                fields,
            }),
            _ => self
                .direct
                .push(&mut self.writer, &self.shapes, row, shape, &fields),
        }
    }

    /// Closes every chunk and returns the plan (chunks ordered by id) and the shapes.
    pub fn finish(mut self) -> Result<(Vec<ChunkPlan>, Shapes), Error> {
        let direct = std::mem::replace(&mut self.direct, StreamSink::new(self.config.caps, None));
        direct.finish(&mut self.writer)?;
        if let Some(buckets) = self.buckets.take() {
            for (path, count) in buckets.close()? {
                self.plan_bucket(&path, count, 1)?;
            }
        }
        for bin in std::mem::take(&mut self.carried) {
            self.write_bin(bin)?;
        }
        let mut chunks = std::mem::take(&mut self.writer.done);
        chunks.sort_by_key(|c| c.id);
        Ok((chunks, self.shapes))
    }

    fn plan_bucket(&mut self, path: &Path, count: u64, depth: u32) -> Result<(), Error> {
        if count > self.config.sort_rows && depth <= MAX_SPLIT_DEPTH {
            let parts = self.split_bucket(path, depth)?;
            if parts.len() > 1 {
                for (part, n) in parts {
                    self.plan_bucket(&part, n, depth + 1)?;
                }
                return Ok(());
            }
            let (single, n) = parts.into_iter().next().expect("a non-empty bucket");
            return self.plan_bucket(&single, n, MAX_SPLIT_DEPTH + 1);
        }
        if count > self.config.sort_rows {
            self.stream_one_parent(path)
        } else {
            self.pack_bucket(path)
        }?;
        let _ = std::fs::remove_file(path);
        Ok(())
    }

    fn split_bucket(&mut self, path: &Path, depth: u32) -> Result<Vec<(PathBuf, u64)>, Error> {
        let base = fnv1a(0, &[path.to_string_lossy().as_bytes()]) as usize % 1_000_000;
        let mut parts = Buckets::create(&self.writer.dir, depth, self.config.buckets, base)?;
        for row in read_spilled(path)? {
            parts.push(&row?)?;
        }
        let _ = std::fs::remove_file(path);
        parts.close()
    }

    /// A bucket too big to group in memory that no hash can split: one parent's rows.
    fn stream_one_parent(&mut self, path: &Path) -> Result<(), Error> {
        let caps = Caps {
            rows: self.config.group_rows,
            bytes: self.config.caps.bytes,
        };
        let mut sink = StreamSink::new(caps, Some(self.writer.next_id));
        for row in read_spilled(path)? {
            let row = row?;
            sink.push(
                &mut self.writer,
                &self.shapes,
                row.row,
                row.shape,
                &row.fields,
            )?;
        }
        sink.finish(&mut self.writer)
    }

    fn pack_bucket(&mut self, path: &Path) -> Result<(), Error> {
        let mut groups: HashMap<(usize, String), Vec<HeldRow>> = HashMap::new();
        for row in read_spilled(path)? {
            let row = row?;
            let len = self.writer.encoder.encode(&row.fields)?.len() as u64;
            groups
                .entry((row.shape, row.parent))
                .or_default()
                .push((row.row, row.fields, len));
        }
        let mut groups: Vec<_> = groups.into_iter().collect();
        groups.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then_with(|| a.0.cmp(&b.0)));
        let caps = Caps {
            rows: self.config.group_rows,
            bytes: self.config.caps.bytes,
        };
        let mut bins: Vec<Bin> = std::mem::take(&mut self.carried);
        for ((shape, parent), rows) in groups {
            let bytes: u64 = rows.iter().map(|r| r.2).sum();
            let header = self.writer.encoder.encode(self.shapes.of(shape))?.len() as u64;
            if rows.len() as u64 > caps.rows || header + bytes > caps.bytes {
                self.write_split_group(shape, rows)?;
                continue;
            }
            let fits = |b: &Bin| {
                b.shape == shape
                    && b.rows + rows.len() as u64 <= caps.rows
                    && b.bytes + bytes <= caps.bytes
            };
            match bins.iter_mut().find(|b| fits(b)) {
                Some(bin) => bin.add(parent, rows, bytes),
                None => bins.push(
                    Bin {
                        shape,
                        rows: 0,
                        bytes: header,
                        groups: Vec::new(),
                    }
                    .with(parent, rows, bytes),
                ),
            }
        }
        self.settle(bins, caps)
    }

    /// Writes the full bins; carries the fullest partial ones (up to [`MAX_CARRIED_BINS`]) to
    /// the next bucket so small buckets do not each end in a small job.
    fn settle(&mut self, mut bins: Vec<Bin>, caps: Caps) -> Result<(), Error> {
        bins.sort_by_key(|b| std::cmp::Reverse(b.rows));
        let full = |b: &Bin| b.rows * 10 >= caps.rows * 9 || b.bytes * 10 >= caps.bytes * 9;
        let (done, mut partial): (Vec<Bin>, Vec<Bin>) = bins.into_iter().partition(full);
        let overflow = partial.split_off(partial.len().min(MAX_CARRIED_BINS));
        for bin in done.into_iter().chain(overflow) {
            self.write_bin(bin)?;
        }
        self.carried = partial;
        Ok(())
    }

    fn write_split_group(&mut self, shape: usize, rows: Vec<HeldRow>) -> Result<(), Error> {
        let caps = Caps {
            rows: self.config.group_rows,
            bytes: self.config.caps.bytes,
        };
        let mut sink = StreamSink::new(caps, Some(self.writer.next_id));
        for (row, fields, _) in rows {
            sink.push(&mut self.writer, &self.shapes, row, shape, &fields)?;
        }
        sink.finish(&mut self.writer)
    }

    fn write_bin(&mut self, mut bin: Bin) -> Result<(), Error> {
        bin.groups.sort_by(|a, b| a.0.cmp(&b.0));
        let mut chunk = self.writer.open(&self.shapes, bin.shape, None)?;
        for (_, rows) in bin.groups {
            for (row, fields, _) in rows {
                let encoded = self.writer.encoder.encode(&fields)?;
                self.writer.append(&mut chunk, row, &encoded)?;
            }
        }
        self.writer.close(chunk)
    }
}

/// Groups packed into one grouped chunk.
struct Bin {
    shape: usize,
    rows: u64,
    bytes: u64,
    groups: Vec<(String, Vec<HeldRow>)>,
}

impl Bin {
    fn add(&mut self, parent: String, rows: Vec<HeldRow>, bytes: u64) {
        self.rows += rows.len() as u64;
        self.bytes += bytes;
        self.groups.push((parent, rows));
    }

    fn with(mut self, parent: String, rows: Vec<HeldRow>, bytes: u64) -> Bin {
        self.add(parent, rows, bytes);
        self
    }
}

/// The key a parent value is grouped by: ids compare on their case-sensitive 15-character
/// form (the 18-character form only adds a checksum); other values (external ids) as given.
pub fn parent_key(value: &str) -> &str {
    let looks_like_id = (value.len() == 15 || value.len() == 18)
        && value.bytes().all(|b| b.is_ascii_alphanumeric());
    if looks_like_id {
        &value[..15]
    } else {
        value
    }
}

/// Reads a chunk back: `(input row, fields)` in upload order.
pub fn read_chunk(dir: &RunDir, id: u64) -> Result<(Vec<String>, ChunkRows), Error> {
    let csv_path = dir.chunk_csv(id);
    let mut reader = csv::ReaderBuilder::new().from_reader(BufReader::new(
        File::open(&csv_path).map_err(|e| io_error("cannot open", &csv_path, e))?,
    ));
    let header = reader
        .headers()
        .map_err(|e| io_error("cannot read", &csv_path, e))?
        .iter()
        .map(str::to_owned)
        .collect();
    let rows_path = dir.chunk_rows(id);
    let mut rows =
        BufReader::new(File::open(&rows_path).map_err(|e| io_error("cannot open", &rows_path, e))?);
    let iter = reader.into_records().map(move |rec| {
        let rec = rec.map_err(|e| io_error("cannot read", &csv_path, e))?;
        let mut buf = [0u8; 8];
        rows.read_exact(&mut buf)
            .map_err(|e| io_error("cannot read", &rows_path, e))?;
        Ok((u64::from_le_bytes(buf), rec))
    });
    Ok((header, Box::new(iter)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(group_by: Option<&str>, rows: u64, group_rows: u64) -> PlanConfig {
        PlanConfig {
            caps: Caps {
                rows,
                bytes: 1_000_000,
            },
            group_rows,
            group_by: group_by.map(str::to_owned),
            buckets: 4,
            sort_rows: 50,
        }
    }

    fn contact(i: u64, parent: &str) -> Vec<String> {
        vec![format!("Last{i}"), parent.to_owned()]
    }

    fn shapes() -> Shapes {
        Shapes::single(vec!["LastName".into(), "AccountId".into()])
    }

    fn rows_of(dir: &RunDir, chunk: &ChunkPlan) -> Vec<(u64, Vec<String>)> {
        let (header, rows) = read_chunk(dir, chunk.id).unwrap();
        assert_eq!(header, ["LastName", "AccountId"]);
        rows.map(|r| {
            r.map(|(n, rec)| (n, rec.iter().map(str::to_owned).collect()))
                .unwrap()
        })
        .collect()
    }

    #[test]
    fn ungrouped_rows_keep_input_order_and_respect_the_row_cap() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = RunDir(tmp.path().to_owned());
        let mut planner = Planner::new(dir.clone(), config(None, 3, 3), shapes(), 0).unwrap();
        for i in 0..7 {
            planner.push(i, 0, contact(i, "001")).unwrap();
        }
        let (chunks, _) = planner.finish().unwrap();
        assert_eq!(chunks.iter().map(|c| c.rows).collect::<Vec<_>>(), [3, 3, 1]);
        let all: Vec<u64> = chunks
            .iter()
            .flat_map(|c| rows_of(&dir, c))
            .map(|r| r.0)
            .collect();
        assert_eq!(all, (0..7).collect::<Vec<_>>());
    }

    #[test]
    fn byte_cap_splits_uploads_and_counts_the_header() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = RunDir(tmp.path().to_owned());
        let mut cfg = config(None, 1000, 1000);
        cfg.caps.bytes = 60;
        let mut planner = Planner::new(dir.clone(), cfg, shapes(), 0).unwrap();
        for i in 0..10 {
            planner.push(i, 0, contact(i, "001000000000001")).unwrap();
        }
        let (chunks, _) = planner.finish().unwrap();
        assert!(chunks.len() > 1);
        for c in &chunks {
            assert!(c.bytes <= 60, "{c:?}");
            assert_eq!(
                std::fs::metadata(dir.chunk_csv(c.id)).unwrap().len(),
                c.bytes
            );
        }
        assert_eq!(chunks.iter().map(|c| c.rows).sum::<u64>(), 10);
    }

    #[test]
    fn grouped_rows_of_one_parent_share_one_chunk_and_are_contiguous() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = RunDir(tmp.path().to_owned());
        let mut planner = Planner::new(
            dir.clone(),
            config(Some("AccountId"), 1000, 10),
            shapes(),
            0,
        )
        .unwrap();
        // 12 parents × 3 rows, interleaved; plus 2 rows without parent.
        for i in 0..36 {
            planner
                .push(i, 0, contact(i, &format!("P{}", i % 12)))
                .unwrap();
        }
        planner.push(36, 0, contact(36, "")).unwrap();
        planner.push(37, 0, contact(37, "#N/A")).unwrap();
        let (chunks, _) = planner.finish().unwrap();
        let mut chunk_of_parent = HashMap::new();
        let mut seen = 0;
        for c in &chunks {
            assert!(
                c.rows <= 10,
                "a grouped chunk holds one internal batch: {c:?}"
            );
            let rows = rows_of(&dir, c);
            seen += rows.len();
            let parents: Vec<_> = rows.iter().map(|r| r.1[1].clone()).collect();
            let mut runs = parents.clone();
            runs.dedup();
            let distinct: std::collections::HashSet<_> = parents.iter().collect();
            assert_eq!(
                runs.len(),
                distinct.len(),
                "parents contiguous in {parents:?}"
            );
            for p in parents.into_iter().filter(|p| p.starts_with('P')) {
                assert_eq!(*chunk_of_parent.entry(p).or_insert(c.id), c.id);
            }
        }
        assert_eq!(seen, 38);
        assert_eq!(chunk_of_parent.len(), 12);
    }

    #[test]
    fn an_oversized_parent_gets_consecutive_chunks_in_one_lane() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = RunDir(tmp.path().to_owned());
        let mut planner = Planner::new(
            dir.clone(),
            config(Some("AccountId"), 1000, 10),
            shapes(),
            0,
        )
        .unwrap();
        for i in 0..120 {
            planner.push(i, 0, contact(i, "BIG")).unwrap();
        }
        for i in 120..130 {
            planner.push(i, 0, contact(i, "small")).unwrap();
        }
        let (chunks, _) = planner.finish().unwrap();
        let big: Vec<_> = chunks
            .iter()
            .filter(|c| rows_of(&dir, c)[0].1[1] == "BIG")
            .collect();
        assert_eq!(big.iter().map(|c| c.rows).sum::<u64>(), 120);
        assert!(big.len() >= 12);
        assert!(
            big.iter().all(|c| c.lane == big[0].lane),
            "one lane: {big:?}"
        );
        let small: Vec<_> = chunks
            .iter()
            .filter(|c| rows_of(&dir, c)[0].1[1] == "small")
            .collect();
        assert_eq!(small.len(), 1);
        assert_ne!(small[0].lane, big[0].lane);
        let leftovers = std::fs::read_dir(tmp.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with("bucket")
            })
            .count();
        assert_eq!(leftovers, 0, "spill files are removed");
    }

    #[test]
    fn an_oversized_bucket_is_split_again_and_still_groups() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = RunDir(tmp.path().to_owned());
        let mut planner = Planner::new(
            dir.clone(),
            config(Some("AccountId"), 1000, 40),
            shapes(),
            0,
        )
        .unwrap();
        for i in 0..400 {
            planner
                .push(i, 0, contact(i, &format!("P{}", i % 40)))
                .unwrap();
        }
        let (chunks, _) = planner.finish().unwrap();
        let mut chunk_of_parent = HashMap::new();
        for c in &chunks {
            for (_, fields) in rows_of(&dir, c) {
                assert_eq!(
                    *chunk_of_parent.entry(fields[1].clone()).or_insert(c.id),
                    c.id
                );
            }
        }
        assert_eq!(chunks.iter().map(|c| c.rows).sum::<u64>(), 400);
    }

    #[test]
    fn partly_filled_chunks_carry_across_buckets_so_jobs_stay_full() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = RunDir(tmp.path().to_owned());
        let mut planner = Planner::new(
            dir.clone(),
            config(Some("AccountId"), 1000, 40),
            shapes(),
            0,
        )
        .unwrap();
        for i in 0..100 {
            planner.push(i, 0, contact(i, &format!("P{i}"))).unwrap();
        }
        let (chunks, _) = planner.finish().unwrap();
        let sizes: Vec<u64> = chunks.iter().map(|c| c.rows).collect();
        assert_eq!(sizes.iter().sum::<u64>(), 100);
        assert_eq!(
            sizes.len(),
            3,
            "4 buckets of ~25 rows make 3 jobs, not one per bucket: {sizes:?}"
        );
    }

    #[test]
    fn ids_group_on_their_15_character_form() {
        assert_eq!(
            parent_key("001M000000qfPySIAU"),
            parent_key("001M000000qfPyS")
        );
        assert_eq!(parent_key("EXT-1"), "EXT-1");
    }
}
