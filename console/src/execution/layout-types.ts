// What a graph layout produces, whichever algorithm placed it.

export const NODE_WIDTH = 176;
export const NODE_HEIGHT = 48;
export const RANK_SEP = 48;
export const NODE_SEP = 16;
export const MARGIN = 16;

export interface PlacedNode {
  readonly id: string;
  /** Top-left corner. */
  readonly x: number;
  readonly y: number;
}

export interface GraphLayout {
  readonly width: number;
  readonly height: number;
  readonly nodes: ReadonlyMap<string, PlacedNode>;
  /** One SVG path per edge. */
  readonly edges: readonly { readonly key: string; readonly d: string }[];
}
