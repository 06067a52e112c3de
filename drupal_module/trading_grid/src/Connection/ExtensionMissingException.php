<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Connection;

/**
 * The trading_grid PHP extension is not loaded, or the connection is not configured.
 */
final class ExtensionMissingException extends \RuntimeException {}
