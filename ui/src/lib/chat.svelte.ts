// Conversations: the thread list, the open thread's turns, and the answer being written.

import { Channel, commands, type ChatEvent, type CitationView, type ThreadView } from "./bindings";
import { errorMessage } from "./errors";
import { reviews } from "./reviews.svelte";
import { traceModel, type TraceModel } from "./trace";
import {
  applyEvent,
  askArgs,
  feedbackRequest,
  citingSentences,
  failAnswer,
  finishAnswer,
  pendingAnswer,
  turnFromMessage,
  userTurn,
  type AskDocument,
  type Turn,
} from "./turns";

/** What the passage panel shows: a cited passage, and the answer text that cites it. */
export type OpenPassage = { citation: CitationView; citingText: string };

/** What the "Why this answer?" panel shows: the trace once loaded, or why it could not be. */
export type OpenTrace = { traceId: number; model: TraceModel | null; error: string | null };

/** A verdict given on an answer (by its trace id), and whether it is still on its way. */
export type Verdict = { up: boolean; sending: boolean };

export class ChatStore {
  threads = $state<ThreadView[]>([]);
  /** The open thread; `null` is a new conversation. */
  thread = $state<number | null>(null);
  turns = $state<Turn[]>([]);
  /** The request id of the answer being written, if any. */
  answering = $state<number | null>(null);
  error = $state<string | null>(null);
  passage = $state<OpenPassage | null>(null);
  trace = $state<OpenTrace | null>(null);
  /** Verdicts given in this session, by trace id; a later one replaces the earlier. */
  verdicts = $state<Record<number, Verdict>>({});
  /** "Ask about this document": the document questions go to until it is cleared; `null` asks the
   * whole collection. */
  document = $state<AskDocument | null>(null);

  private nextRequest = 1;

  async loadThreads(): Promise<void> {
    try {
      this.threads = await commands.threads();
    } catch (e) {
      this.error = errorMessage(e);
    }
  }

  async open(thread: number): Promise<void> {
    if (this.answering !== null) return;
    try {
      const messages = await commands.threadMessages({ thread });
      this.thread = thread;
      this.turns = messages.map(turnFromMessage);
      this.passage = null;
      this.trace = null;
      this.error = null;
    } catch (e) {
      this.error = errorMessage(e);
    }
  }

  newThread(): void {
    if (this.answering !== null) return;
    this.thread = null;
    this.turns = [];
    this.passage = null;
    this.trace = null;
    this.error = null;
  }

  async deleteThread(thread: number): Promise<void> {
    try {
      await commands.deleteThread({ thread });
      if (this.thread === thread) this.newThread();
      await this.loadThreads();
    } catch (e) {
      this.error = errorMessage(e);
    }
  }

  /** Sends the next questions to one document of a collection (the chip above the composer). */
  askAbout(collection: string, path: string): void {
    this.document = { collection, path };
  }

  /** Back to asking the whole collection. */
  clearDocument(): void {
    this.document = null;
  }

  /** The document the chip names, if it is one of `collection` (the chip shows only then). */
  documentIn(collection: string): AskDocument | null {
    return this.document && this.document.collection === collection ? this.document : null;
  }

  /**
   * Asks a question in the open thread (or a new one), about the chosen document if one of this
   * collection is; the answer streams into the last turn.
   */
  async ask(question: string, collection: string): Promise<void> {
    const text = question.trim();
    if (!text || this.answering !== null) return;
    const requestId = this.nextRequest++;
    this.error = null;
    this.passage = null;
    this.turns.push(userTurn(`q${requestId}`, text));
    this.turns.push(pendingAnswer(`a${requestId}`));
    const at = this.turns.length - 1;
    this.answering = requestId;
    const channel = new Channel<ChatEvent>();
    channel.onmessage = (event) => {
      // Events that arrive after the final answer (the reply can overtake the channel) are late
      // copies of what it already holds.
      const turn = this.turns[at];
      if (turn && turn.streaming) this.turns[at] = applyEvent(turn, event);
    };
    try {
      const answer = await commands.ask(askArgs(requestId, text, collection, this.thread, this.document), channel);
      this.turns[at] = finishAnswer(this.turns[at], answer);
      this.thread = answer.thread_id;
      void this.loadThreads();
      // A queued answer adds to the count the sidebar shows.
      if (answer.review) void reviews.refresh();
    } catch (e) {
      this.turns[at] = failAnswer(this.turns[at], errorMessage(e));
    } finally {
      this.answering = null;
    }
  }

  /** Stops the answer being written; what it wrote so far stays, marked as cut short. */
  async stop(): Promise<void> {
    if (this.answering === null) return;
    try {
      await commands.stopAnswer({ request_id: this.answering });
    } catch (e) {
      this.error = errorMessage(e);
    }
  }

  openPassage(turn: Turn, n: number): void {
    const citation = turn.citations.find((c) => c.n === n);
    if (citation) {
      this.trace = null;
      this.passage = { citation, citingText: citingSentences(turn.content, n) };
    }
  }

  /** Records 👍 or 👎 (with an optional correction) for an answer. */
  async rate(traceId: number, up: boolean, correction?: string | null): Promise<boolean> {
    const before = this.verdicts[traceId];
    this.verdicts[traceId] = { up, sending: true };
    try {
      await commands.feedback(feedbackRequest(traceId, up, correction));
      this.verdicts[traceId] = { up, sending: false };
      return true;
    } catch (e) {
      // The earlier verdict, if any, still stands; say why this one did not.
      if (before) this.verdicts[traceId] = { ...before, sending: false };
      else delete this.verdicts[traceId];
      this.error = errorMessage(e);
      return false;
    }
  }

  /** Opens "Why this answer?" for an answer's trace. */
  async openTrace(traceId: number): Promise<void> {
    this.passage = null;
    this.trace = { traceId, model: null, error: null };
    try {
      const view = await commands.trace({ trace_id: traceId });
      if (this.trace?.traceId === traceId) this.trace = { traceId, model: traceModel(view), error: null };
    } catch (e) {
      if (this.trace?.traceId === traceId) this.trace = { traceId, model: null, error: errorMessage(e) };
    }
  }
}

export const chat = new ChatStore();
