// A failure shown plainly where the content would be, with a retry when one makes sense.
import { describeError } from "../api";

export function ErrorBanner(props: { error: unknown; action?: string; onRetry?: () => void }) {
  return (
    <div className="error-banner" role="alert">
      <span>{describeError(props.error, props.action)}</span>
      {props.onRetry !== undefined && (
        <button type="button" className="small" onClick={props.onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}
