/** Every API replica listens here and closes the websockets of a revoked token (4403). */
export const TOKEN_CHANNEL = 'hookyard_token_revoked';
